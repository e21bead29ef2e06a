"""Every refusal, in every client protocol's own error format, as the official SDKs see it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import anthropic
import httpx
import openai
import pytest
from google.genai import errors as genai_errors
from tests.fakes.fixtures import fake, world
from tests.fakes.gateway import Gateway, World, channel, group, new_key, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault
from tests.relay.clients import PROTOCOLS, sdk_text

from octopus.protocols import WireFormat

__all__ = ["fake", "world"]

OPENAI = {
    401: openai.AuthenticationError,
    403: openai.PermissionDeniedError,
    404: openai.NotFoundError,
    429: openai.RateLimitError,
    400: openai.BadRequestError,
}
ANTHROPIC = {
    401: anthropic.AuthenticationError,
    403: anthropic.PermissionDeniedError,
    404: anthropic.NotFoundError,
    429: anthropic.RateLimitError,
    400: anthropic.BadRequestError,
}


async def _expect(protocol: str, status: int, url: str, key: str, model: str = "m") -> str:
    """Call through the SDK, check the exception class and status; returns the error message."""
    if protocol in ("openai", "responses"):
        with pytest.raises(OPENAI[status]) as openai_error:
            await sdk_text(protocol, url, key, model)
        return openai_error.value.message
    if protocol == "anthropic":
        with pytest.raises(ANTHROPIC[status]) as anthropic_error:
            await sdk_text(protocol, url, key, model)
        return anthropic_error.value.message
    with pytest.raises(genai_errors.ClientError) as google_error:
        await sdk_text(protocol, url, key, model)
    assert google_error.value.code == status
    return google_error.value.message or ""


@pytest.fixture(params=["native", "asgi"])
async def refusing(
    fake: FakeUpstream, world: World, request: pytest.FixtureRequest
) -> AsyncIterator[Gateway]:
    """Both ways a relay request is served: refusals read the same on each."""
    world.channels.append(channel(fake, 1))
    world.groups.append(group("m", world.channels))
    world.groups.append(group("other", world.channels, gid=2))
    async with serve_relay(world, asgi=request.param == "asgi") as gw:
        yield gw


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_key_refusals(protocol: str, refusing: Gateway) -> None:
    world, url = refusing.world, refusing.url
    assert "invalid API key" in await _expect(protocol, 401, url, new_key())
    assert "invalid API key" in await _expect(protocol, 401, url, "sk-wrong-format")
    expired = world.add_key(expire_at=int(time.time()) - 10)
    assert "expired" in await _expect(protocol, 401, url, expired)
    disabled = world.add_key(enabled=False)
    assert "disabled" in await _expect(protocol, 403, url, disabled)
    limited = world.add_key(supported_models=frozenset({"other"}))
    assert "not allowed" in await _expect(protocol, 403, url, limited)
    assert await sdk_text(protocol, url, limited, model="other") == "hello from c1"
    good = world.add_key()
    assert "does not exist" in await _expect(protocol, 404, url, good, model="nope")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_budget_and_rate_limits(protocol: str, refusing: Gateway) -> None:
    world, url = refusing.world, refusing.url
    budget = world.add_key(max_cost=1.0)
    refusing.service.limiter.set_spent(len(world.keys), 1.5)
    assert "spending limit" in await _expect(protocol, 403, url, budget)
    rpm = world.add_key(max_rpm=2)
    for _ in range(2):
        await sdk_text(protocol, url, rpm)
    assert "requests per minute" in await _expect(protocol, 429, url, rpm)


async def test_rate_limit_sends_retry_after(refusing: Gateway) -> None:
    key = refusing.world.add_key(max_rpm=1)
    async with httpx.AsyncClient() as http:
        ok = await http.post(
            f"{refusing.url}/v1/messages",
            headers={"x-api-key": key},
            json={"model": "m", "max_tokens": 5, "messages": []},
        )
        assert ok.status_code == 200
        refused = await http.post(
            f"{refusing.url}/v1/messages",
            headers={"x-api-key": key},
            json={"model": "m", "max_tokens": 5, "messages": []},
        )
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["error"]["type"] == "rate_limit_error"


async def test_concurrency_limit(fake: FakeUpstream, refusing: Gateway) -> None:
    key = refusing.world.add_key(max_concurrency=1)
    fake.script("c1", Fault(delay=0.5))
    slow = asyncio.create_task(sdk_text("openai", refusing.url, key))
    await asyncio.sleep(0.2)
    assert "concurrent" in await _expect("openai", 429, refusing.url, key)
    assert await slow == "hello from c1"
    assert await sdk_text("openai", refusing.url, key) == "hello from c1"  # the slot was released


ROUTES = {
    WireFormat.OPENAI_CHAT: "/v1/chat/completions",
    WireFormat.OPENAI_RESPONSES: "/v1/responses",
    WireFormat.ANTHROPIC: "/v1/messages",
    WireFormat.GEMINI: "/v1beta/models/m:generateContent",
}


def _error_shape(fmt: WireFormat, doc: dict[str, object], status: int) -> str:
    error = doc["error"]
    assert isinstance(error, dict)
    if fmt is WireFormat.ANTHROPIC:
        assert doc["type"] == "error"
        assert isinstance(error["type"], str)
    elif fmt is WireFormat.GEMINI:
        assert error["code"] == status
        assert isinstance(error["status"], str)
    else:
        assert "type" in error
    return str(error["message"])


@pytest.mark.parametrize("fmt", list(WireFormat))
async def test_body_refusals(fmt: WireFormat, world: World, fake: FakeUpstream) -> None:
    from octopus.relay.service import RelayLimits

    world.channels.append(channel(fake, 1))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    async with (
        serve_relay(world, limits=RelayLimits(max_body_size=1000)) as gw,
        httpx.AsyncClient() as http,
    ):
        url = gw.url + ROUTES[fmt]
        malformed = await http.post(url, headers=headers, content=b'{"model": "m", "messages": [')
        assert malformed.status_code == 400
        assert "malformed JSON" in _error_shape(fmt, malformed.json(), 400)
        not_object = await http.post(url, headers=headers, content=b"[1, 2]")
        assert not_object.status_code == 400
        form_type = {"Content-Type": "application/x-www-form-urlencoded"}
        form = await http.post(url, headers={**headers, **form_type}, content=b"model=m&x=1")
        assert form.status_code == 400  # any content type is read as JSON; this is not JSON
        assert "malformed JSON" in _error_shape(fmt, form.json(), 400)
        huge = await http.post(
            url, headers=headers, content=b'{"model": "m", "x": "' + b"a" * 2000 + b'"}'
        )
        assert huge.status_code == 413
        assert "limit" in _error_shape(fmt, huge.json(), 413)
    assert fake.received == []


async def test_missing_key_in_each_format(refusing: Gateway) -> None:
    async with httpx.AsyncClient() as http:
        for fmt, path in ROUTES.items():
            resp = await http.post(refusing.url + path, json={"model": "m", "messages": []})
            assert resp.status_code == 401
            assert "missing API key" in _error_shape(fmt, resp.json(), 401)
