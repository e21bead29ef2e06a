"""Resting members: when nothing can be tried, a 429 in the client's format says when to return.

Retry-After is the upstream's own on a relayed 429, else the seconds until the first member is
usable again (a resting key or a cooldown, whichever ends first), and never below 1.
"""

from __future__ import annotations

import email.utils
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from octopus.core.clock import SystemClock
from octopus.protocols import WireFormat
from octopus.routing.catalog import RelayConfig
from tests.fakes.doubles import FakeClock
from tests.fakes.gateway import World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault

MESSAGES: list[openai.types.chat.ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]


def _two(fake: FakeUpstream, world: World, config: RelayConfig | None = None) -> str:
    world.channels.extend(channel(fake, i) for i in (1, 2))
    world.groups.append(group("m", world.channels, config=config))
    return world.add_key()


def _openai(url: str, key: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=20)


async def _chat_429(client: openai.AsyncOpenAI) -> openai.RateLimitError:
    with pytest.raises(openai.RateLimitError) as caught:
        await client.chat.completions.create(model="m", messages=MESSAGES)
    return caught.value


async def test_every_member_rate_limited_gives_the_upstreams_retry_after(
    fake: FakeUpstream, world: World
) -> None:
    key = _two(fake, world)
    fake.script("c1", Fault(status=429, headers={"Retry-After": "40"}))
    fake.script("c2", Fault(status=429, headers={"Retry-After": "20"}))
    async with serve_relay(world) as gw, _openai(gw.url, key) as client:
        first = await _chat_429(client)
        assert (
            first.response.headers["retry-after"] == "20"
        )  # the sooner of the two upstream answers
        # both keys rest now: the next request reaches no upstream and still gets a 429
        second = await _chat_429(client)
        assert 15 <= int(second.response.headers["retry-after"]) <= 20
        assert "rate limited" in second.message
        assert gw.routing.health.cooldown_left(100) == 0  # a 429 rests the key, not the member
    assert fake.tags() == ["c1", "c2"]


async def test_cooling_and_resting_members_give_the_first_one_back(
    fake: FakeUpstream, world: World
) -> None:
    key = _two(fake, world, replace(RelayConfig(), cooldown=300.0))
    fake.script("c1", Fault(status=500))  # cools down for 300 s
    fake.script("c2", Fault(status=429, headers={"Retry-After": "30"}))  # rests for 30 s
    async with serve_relay(world) as gw, _openai(gw.url, key) as client:
        with pytest.raises(openai.APIStatusError) as caught:
            await client.chat.completions.create(model="m", messages=MESSAGES)
        assert caught.value.status_code == 502  # a real failure among them: not a plain 429
        resting = await _chat_429(client)
        assert 25 <= int(resting.response.headers["retry-after"]) <= 30
    assert fake.tags() == ["c1", "c2"]


async def test_retry_after_is_at_least_one_second(fake: FakeUpstream, world: World) -> None:
    clock = FakeClock()  # still while the test runs: the 0.2 s cooldown cannot end between calls
    key = _two(fake, world, replace(RelayConfig(), cooldown=0.2))
    fake.always["c1"] = fake.always["c2"] = Fault(status=500)
    async with serve_relay(world, clock=clock) as gw, httpx.AsyncClient() as http:
        url, auth = f"{gw.url}/v1/chat/completions", {"Authorization": f"Bearer {key}"}
        body = {"model": "m", "messages": MESSAGES}
        assert (await http.post(url, headers=auth, json=body)).status_code == 502
        resting = await http.post(url, headers=auth, json=body)
    assert resting.status_code == 429
    assert resting.headers["retry-after"] == "1"


async def test_resting_answer_is_in_the_anthropic_format(fake: FakeUpstream, world: World) -> None:
    key = _two(fake, world)
    fake.always["c1"] = fake.always["c2"] = Fault(status=429, headers={"Retry-After": "9"})
    async with (
        serve_relay(world) as gw,
        anthropic.AsyncAnthropic(base_url=gw.url, api_key=key, max_retries=0) as client,
    ):
        for _ in range(2):  # relayed, then resting
            with pytest.raises(anthropic.RateLimitError) as caught:
                await client.messages.create(
                    model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
                )
            assert caught.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
            assert 1 <= int(caught.value.response.headers["retry-after"]) <= 9
    assert len(fake.received) == 2


async def test_resting_answer_is_in_the_gemini_format(fake: FakeUpstream, world: World) -> None:
    world.channels.append(channel(fake, 1, WireFormat.GEMINI))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    fake.script("c1", Fault(status=429, headers={"Retry-After": "12"}))
    async with serve_relay(world) as gw, httpx.AsyncClient(timeout=20) as http:
        # google-genai over httpx (its aiohttp path warns on import)
        options = types.HttpOptions(base_url=gw.url, httpx_async_client=http)
        client = genai.Client(api_key=key, http_options=options).aio
        for _ in range(2):
            with pytest.raises(genai_errors.ClientError) as caught:
                await client.models.generate_content(model="m", contents="hi")
            assert caught.value.code == 429
            assert caught.value.status == "RESOURCE_EXHAUSTED"
        raw = await http.post(
            f"{gw.url}/v1beta/models/m:generateContent",
            headers={"x-goog-api-key": key},
            json={"contents": [{"parts": [{"text": "hi"}]}]},
        )
    assert raw.status_code == 429
    assert 8 <= int(raw.headers["retry-after"]) <= 12
    assert raw.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert len(fake.received) == 1


async def test_retry_after_as_an_http_date_is_relayed_in_seconds(
    fake: FakeUpstream, world: World
) -> None:
    world.channels.append(channel(fake, 1))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=45), usegmt=True)
    fake.script("c1", Fault(status=429, headers={"Retry-After": when}))
    async with serve_relay(world) as gw, _openai(gw.url, key) as client:
        relayed = await _chat_429(client)
    assert 40 <= int(relayed.response.headers["retry-after"]) <= 46


class _AheadClock(SystemClock):
    """Wall time an hour ahead of the machine's: the gateway's clock, not the OS's, says now."""

    def time(self) -> float:
        return super().time() + 3600


async def test_retry_after_date_is_read_against_the_gateways_clock(
    fake: FakeUpstream, world: World
) -> None:
    world.channels.append(channel(fake, 1))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    later = datetime.now(UTC) + timedelta(seconds=3600 + 45)
    when = email.utils.format_datetime(later, usegmt=True)
    fake.script("c1", Fault(status=429, headers={"Retry-After": when}))
    async with serve_relay(world, clock=_AheadClock()) as gw, _openai(gw.url, key) as client:
        relayed = await _chat_429(client)
    assert 40 <= int(relayed.response.headers["retry-after"]) <= 46
