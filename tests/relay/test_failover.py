"""Failover: what is retried (and what is not), timeouts, the attempt cap, the commit point."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import anthropic
import httpx
import openai
import pytest

from octopus.protocols import WireFormat
from octopus.relay.exchange import ExchangeLimits
from octopus.relay.service import RelayLimits
from octopus.routing.catalog import RelayConfig
from tests.fakes.gateway import World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault

FAST = RelayConfig(first_token_timeout=0.5, response_timeout=0.5, cooldown=60.0)
MESSAGES: Any = [{"role": "user", "content": "hi"}]


def _three(
    fake: FakeUpstream,
    world: World,
    config: RelayConfig = FAST,
    kind: WireFormat = WireFormat.OPENAI_CHAT,
) -> str:
    world.channels.extend(channel(fake, i, kind) for i in (1, 2, 3))
    world.groups.append(group("m", world.channels, config=config))
    return world.add_key()


def _openai(url: str, key: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=20)


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=500),
        Fault(status=503),
        Fault(status=429),
        Fault(status=408),
        Fault(delay=2.0),  # no response within response_timeout
    ],
    ids=["500", "503", "429", "408", "timeout"],
)
async def test_retryable_failures_move_to_the_next_member(
    fake: FakeUpstream, world: World, fault: Fault
) -> None:
    key = _three(fake, world)
    fake.script("c1", fault)
    async with serve_relay(world) as gw:
        client = _openai(gw.url, key)
        reply = await client.chat.completions.create(model="m", messages=MESSAGES)
        await client.close()
        assert reply.choices[0].message.content == "hello from c2"
        assert fake.tags() == ["c1", "c2"]
        record = gw.sink.records[0]
        assert [a.outcome for a in record.attempts] == ["failed", "success"]
        assert record.status == "success"
        assert record.channel_name == "c2"


async def test_connect_refused_moves_on(
    fake: FakeUpstream, world: World, refused_port: int
) -> None:
    dead = replace(channel(fake, 1), base_url=f"http://127.0.0.1:{refused_port}/v1")
    world.channels.extend([dead, channel(fake, 2)])
    world.groups.append(group("m", world.channels, config=FAST))
    key = world.add_key()
    async with serve_relay(world) as gw:
        client = _openai(gw.url, key)
        reply = await client.chat.completions.create(model="m", messages=MESSAGES)
        await client.close()
        assert reply.choices[0].message.content == "hello from c2"
        assert "connection failed" in gw.sink.records[0].attempts[0].error


async def test_client_fault_is_not_retried_and_arrives_intact(
    fake: FakeUpstream, world: World
) -> None:
    key = _three(fake, world)
    fake.script("c1", Fault(status=400))
    async with serve_relay(world) as gw:
        client = _openai(gw.url, key)
        with pytest.raises(openai.BadRequestError) as caught:
            await client.chat.completions.create(model="m", messages=MESSAGES)
        await client.close()
        assert caught.value.status_code == 400
        assert "Invalid value for 'model'" in caught.value.message
        assert fake.tags() == ["c1"]
        assert gw.sink.records[0].status == "failed"
        assert gw.routing.health.cooldown_left(100) == 0  # a client fault does not cool the member


async def test_client_fault_keeps_provider_message_across_protocols(
    fake: FakeUpstream, world: World
) -> None:
    key = _three(fake, world, kind=WireFormat.ANTHROPIC)
    fake.script("c1", Fault(status=400))
    async with serve_relay(world) as gw:
        client = _openai(gw.url, key)
        with pytest.raises(openai.BadRequestError) as caught:
            await client.chat.completions.create(model="m", messages=MESSAGES)
        await client.close()
        assert "messages: field required" in caught.value.message
        assert fake.tags() == ["c1"]


async def test_all_members_failing_gives_one_clear_error(fake: FakeUpstream, world: World) -> None:
    key = _three(fake, world)
    for tag in ("c1", "c2", "c3"):
        fake.always[tag] = Fault(status=500)
    async with serve_relay(world) as gw:
        client = anthropic.AsyncAnthropic(base_url=gw.url, api_key=key, max_retries=0)
        with pytest.raises(anthropic.InternalServerError) as caught:
            await client.messages.create(model="m", max_tokens=10, messages=MESSAGES)
        await client.close()
        assert caught.value.status_code == 502
        assert "all 3 upstream attempts failed" in caught.value.message
        assert sorted(fake.tags()) == ["c1", "c2", "c3"]


async def test_attempt_cap_bounds_the_members_tried(fake: FakeUpstream, world: World) -> None:
    key = _three(fake, world, replace(FAST, max_attempts=2))
    for tag in ("c1", "c2", "c3"):
        fake.always[tag] = Fault(status=503)
    async with serve_relay(world) as gw:
        client = _openai(gw.url, key)
        with pytest.raises(openai.InternalServerError) as caught:
            await client.chat.completions.create(model="m", messages=MESSAGES)
        await client.close()
        assert caught.value.status_code == 503
        assert fake.tags() == ["c1", "c2"]


async def test_request_deadline_stops_failover(fake: FakeUpstream, world: World) -> None:
    config = replace(FAST, response_timeout=1.0, request_deadline=1.5)
    key = _three(fake, world, config)
    for tag in ("c1", "c2", "c3"):
        fake.always[tag] = Fault(delay=10.0)
    async with serve_relay(world) as gw:
        client = _openai(gw.url, key)
        began = time.monotonic()
        with pytest.raises(openai.APIStatusError) as caught:
            await client.chat.completions.create(model="m", messages=MESSAGES)
        elapsed = time.monotonic() - began
        await client.close()
        assert caught.value.status_code == 504
        assert fake.tags() == ["c1", "c2"]
        first, second = (await gw.records())[0].attempts
        assert first.error == "no response within 1s"
        # the second member only had what was left of the deadline, not a response_timeout
        left = float(second.error.removeprefix("no response within ").removesuffix("s"))
        assert left < 1.0
        assert elapsed < 9.0  # nowhere near the upstreams' 10 s


async def test_disabled_channel_never_gets_traffic(fake: FakeUpstream, world: World) -> None:
    world.channels.extend([replace(channel(fake, 1), enabled=False), channel(fake, 2)])
    world.groups.append(group("m", world.channels, config=FAST))
    key = world.add_key()
    async with serve_relay(world) as gw:
        client = _openai(gw.url, key)
        for _ in range(5):
            await client.chat.completions.create(model="m", messages=MESSAGES)
        await client.close()
    assert fake.tags() == ["c2"] * 5


@pytest.mark.parametrize(
    "fault",
    [Fault(first_event_error=True), Fault(malformed=True), Fault(event_delay=1.0)],
    ids=["error-event", "malformed", "first-token-timeout"],
)
async def test_stream_fails_over_before_the_first_content(
    fake: FakeUpstream, world: World, fault: Fault
) -> None:
    key = _three(fake, world)
    fake.script("c1", fault)
    async with serve_relay(world) as gw:
        client = _openai(gw.url, key)
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        await client.close()
        assert text == "hello from c2"
        assert fake.tags() == ["c1", "c2"]


@pytest.mark.parametrize(
    "kind", [WireFormat.ANTHROPIC, WireFormat.OPENAI_RESPONSES, WireFormat.GEMINI]
)
async def test_first_event_error_fails_over_in_every_protocol(
    fake: FakeUpstream, world: World, kind: WireFormat
) -> None:
    key = _three(fake, world, kind=kind)
    fake.script("c1", Fault(first_event_error=True))
    async with serve_relay(world) as gw, httpx.AsyncClient(timeout=20) as http:
        path, body = _stream_call(kind)
        resp = await http.post(
            gw.url + path, headers={"x-api-key": key, "x-goog-api-key": key}, json=body
        )
        assert resp.status_code == 200
        assert resp.content == fake.sent["c2"]
        assert fake.tags() == ["c1", "c2"]


def _stream_call(kind: WireFormat) -> tuple[str, dict[str, object]]:
    if kind is WireFormat.GEMINI:
        return "/v1beta/models/m:streamGenerateContent?alt=sse", {
            "contents": [{"role": "user", "parts": [{"text": "hi"}]}]
        }
    if kind is WireFormat.ANTHROPIC:
        return "/v1/messages?beta=true", {
            "model": "m",
            "max_tokens": 5,
            "messages": MESSAGES,
            "stream": True,
        }
    return "/v1/responses", {"model": "m", "input": "hi", "stream": True}


async def test_failure_after_commit_ends_with_in_band_error(
    fake: FakeUpstream, world: World
) -> None:
    key = _three(fake, world)
    fake.script("c1", Fault(drop_after=3))
    async with serve_relay(world) as gw:
        client = _openai(gw.url, key)
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        seen: list[str] = []

        async def consume() -> None:
            async for chunk in stream:
                seen.extend(c.delta.content or "" for c in chunk.choices)

        with pytest.raises(openai.APIError) as caught:
            await consume()
        await client.close()
        assert "".join(seen) == "hello from "
        assert "connection lost" in caught.value.message
        assert fake.tags() == ["c1"]  # no retry after the first byte
        record = gw.sink.records[0]
        assert record.status == "failed"
        assert "connection lost" in record.error


async def test_sse_event_size_limit(fake: FakeUpstream, world: World) -> None:
    key = _three(fake, world)
    # before commit the oversized event fails the member over; after commit it ends the stream
    # the first answer's oversized event comes before any content, however the reads fall
    role = b'data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m",'
    role += b'"choices":[{"index":0,"delta":{"role":"assistant"}}]}\n\n'
    oversized = Fault(wire=[role, b"data: " + b"x" * 200_000 + b"\n\n"])
    fake.script("c1", oversized, Fault(big_event=200_000, gap=0.05))
    limits = RelayLimits(exchange=ExchangeLimits(max_sse_event_size=100_000))
    body = {"model": "m", "messages": MESSAGES, "stream": True}
    headers = {"Authorization": f"Bearer {key}"}
    async with serve_relay(world, limits=limits) as gw, httpx.AsyncClient(timeout=20) as http:
        first = await http.post(f"{gw.url}/v1/chat/completions", headers=headers, json=body)
        assert first.content == fake.sent["c2"]
        assert "exceeded 100000 bytes" in gw.sink.records[0].attempts[0].error
        assert gw.routing.health.cooldown_left(100) > 0
        gw.routing.reset_group(1)
        second = await http.post(f"{gw.url}/v1/chat/completions", headers=headers, json=body)
        assert second.status_code == 200
        assert b"hello" in second.content
        assert b"exceeded 100000 bytes" in second.content
        assert b"x" * 1000 not in second.content  # the oversized event never reaches the client
        assert gw.sink.records[1].status == "failed"
        assert fake.tags() == ["c1", "c2", "c1"]
