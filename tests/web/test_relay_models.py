"""Model listings in each client's shape, filtered by the key; the token count estimate."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anthropic
import httpx
import openai
import pytest
from tests.fakes.fixtures import fake, world
from tests.fakes.gateway import Gateway, World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream
from tests.relay.clients import gemini_client

__all__ = ["fake", "world"]


@pytest.fixture
async def listing(fake: FakeUpstream, world: World) -> AsyncIterator[Gateway]:
    world.channels.append(channel(fake, 1))
    for gid, name in enumerate(["gpt-x", "claude-y", "gemini-z"], start=1):
        world.groups.append(group(name, world.channels, gid=gid))
    async with serve_relay(world) as gw:
        yield gw


async def test_openai_shape(listing: Gateway) -> None:
    key = listing.world.add_key()
    async with openai.AsyncOpenAI(base_url=f"{listing.url}/v1", api_key=key) as client:
        page = await client.models.list()
        assert [m.id for m in page.data] == ["claude-y", "gemini-z", "gpt-x"]
        assert page.data[0].owned_by == "octopus"
        one = await client.models.retrieve("gpt-x")
        assert one.id == "gpt-x"
        with pytest.raises(openai.NotFoundError):
            await client.models.retrieve("nope")


async def test_anthropic_shape_and_key_filter(listing: Gateway) -> None:
    key = listing.world.add_key(supported_models=frozenset({"claude-y", "gpt-x"}))
    async with anthropic.AsyncAnthropic(base_url=listing.url, api_key=key) as client:
        page = await client.models.list()
        assert [m.id for m in page.data] == ["claude-y", "gpt-x"]
        assert page.data[0].type == "model"
        assert page.has_more is False
        one = await client.models.retrieve("claude-y")
        assert one.display_name == "claude-y"
        with pytest.raises(anthropic.NotFoundError):
            await client.models.retrieve("gemini-z")  # hidden from this key


async def test_gemini_shape(listing: Gateway) -> None:
    key = listing.world.add_key()
    async with httpx.AsyncClient() as http:
        models = [m async for m in await gemini_client(listing.url, key, http).aio.models.list()]
        assert [m.name for m in models] == ["models/claude-y", "models/gemini-z", "models/gpt-x"]
        raw = await http.get(f"{listing.url}/v1beta/models?key={key}")
        assert raw.json()["models"][2]["supportedGenerationMethods"][0] == "generateContent"
        one = await http.get(f"{listing.url}/v1beta/models/gpt-x", headers={"x-goog-api-key": key})
        assert one.json()["displayName"] == "gpt-x"


async def test_listing_needs_a_key(listing: Gateway) -> None:
    async with httpx.AsyncClient() as http:
        resp = await http.get(f"{listing.url}/v1/models")
    assert resp.status_code == 401
    assert resp.json()["error"]["message"].startswith("missing API key")


async def test_count_tokens_estimate(listing: Gateway) -> None:
    key = listing.world.add_key()
    async with anthropic.AsyncAnthropic(base_url=listing.url, api_key=key) as client:
        counted = await client.messages.count_tokens(
            model="claude-y", messages=[{"role": "user", "content": "hello " * 100}]
        )
    assert 100 < counted.input_tokens < 400
    async with anthropic.AsyncAnthropic(base_url=listing.url, api_key="sk-octopus-bad") as client:
        with pytest.raises(anthropic.AuthenticationError):
            await client.messages.count_tokens(model="claude-y", messages=[])
