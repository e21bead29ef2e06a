"""The three clocks of a stream, each on its own: first token, whole response, idle silence.

first_token_timeout (2 s) is kept far below response_timeout (30 s), so a relay that used the
wrong one for a stream, or for a non-stream answer, picks the wrong member here. Every bound is
2 s (it also binds the member that must answer, so a busy machine gets room) and every stall is
STALL = 10 s: a relay that gives up at the bound is done long before the stall ends.
"""

from __future__ import annotations

from dataclasses import replace

import httpx

from octopus.relay.exchange import ExchangeLimits
from octopus.relay.service import RelayLimits
from octopus.routing.catalog import RelayConfig
from tests.fakes.gateway import World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault
from tests.relay.clients import sdk_stream_text, sdk_text

BOUND = 2.0
SPLIT = RelayConfig(first_token_timeout=BOUND, response_timeout=30.0, cooldown=60.0)
STALL = 10.0  # five times the bound it tests, well inside the other one
NO_FIRST_TOKEN = f"no first token within {BOUND:g}s"


def _two_members(fake: FakeUpstream, world: World, config: RelayConfig = SPLIT) -> str:
    world.channels += [channel(fake, 1), channel(fake, 2)]
    world.groups.append(group("m", world.channels, config=config))
    return world.add_key()


async def test_stream_without_a_first_token_moves_on(fake: FakeUpstream, world: World) -> None:
    key = _two_members(fake, world)
    fake.script("c1", Fault(event_delay=STALL))  # headers at once, then silence
    async with serve_relay(world) as gw:
        assert await sdk_stream_text("openai", gw.url, key) == "hello from c2"
        first, second = gw.sink.records[0].attempts
        assert (first.channel_name, first.outcome) == ("c1", "failed")
        assert first.error == NO_FIRST_TOKEN
        assert first.duration_ms < STALL * 1000  # given up before the stall ended
        assert (second.channel_name, second.outcome) == ("c2", "success")
        # c1 had the prompt and may bill it: the record carries its estimated input on top
        assert first.timed_out
        assert not second.timed_out
        assert gw.sink.records[0].usage.estimated


async def test_a_role_event_is_not_a_first_token(fake: FakeUpstream, world: World) -> None:
    """A fast `role` chunk followed by stalled content still trips the first-token bound."""
    key = _two_members(fake, world)
    fake.script("c1", Fault(stall_after=1, stall=STALL))
    async with serve_relay(world) as gw:
        assert await sdk_stream_text("openai", gw.url, key) == "hello from c2"
        first = gw.sink.records[0].attempts[0]
        assert (first.outcome, first.error) == ("failed", NO_FIRST_TOKEN)
    assert fake.sent.get("c1", b"") == b""  # c1 never finished: the relay hung up on it


async def test_non_stream_waits_for_the_response_timeout(fake: FakeUpstream, world: World) -> None:
    """A JSON answer slower than first_token_timeout but within response_timeout is taken."""
    key = _two_members(fake, world)
    fake.script("c1", Fault(delay=2 * BOUND))
    async with serve_relay(world) as gw:
        assert await sdk_text("openai", gw.url, key) == "hello from c1"
        assert [a.channel_name for a in gw.sink.records[0].attempts] == ["c1"]
        assert fake.tags() == ["c1"]
        assert not gw.sink.records[0].usage.estimated  # the upstream's own usage, nothing added


async def test_non_stream_times_out_on_the_response_timeout(
    fake: FakeUpstream, world: World
) -> None:
    key = _two_members(fake, world, replace(SPLIT, response_timeout=BOUND, first_token_timeout=30))
    fake.script("c1", Fault(delay=STALL))
    async with serve_relay(world) as gw:
        assert await sdk_text("openai", gw.url, key) == "hello from c2"
        first = gw.sink.records[0].attempts[0]
        assert (first.outcome, first.error) == ("failed", f"no response within {BOUND:g}s")
        assert first.duration_ms < STALL * 1000


async def test_first_token_bound_ends_at_the_first_token(fake: FakeUpstream, world: World) -> None:
    """After the first content event, a pause longer than first_token_timeout is fine."""
    key = _two_members(fake, world)
    fake.script("c1", Fault(stall_after=3, stall=2 * BOUND))
    async with serve_relay(world) as gw:
        assert await sdk_stream_text("openai", gw.url, key) == "hello from c1"
        assert gw.sink.records[0].status == "success"
        assert fake.tags() == ["c1"]


async def test_stream_idle_timeout_ends_a_silent_stream(fake: FakeUpstream, world: World) -> None:
    """Committed, then silent past stream_idle_timeout: an in-band error, the request failed."""
    key = _two_members(fake, world, replace(SPLIT, first_token_timeout=30))
    limits = RelayLimits(exchange=ExchangeLimits(connect_timeout=2.0, stream_idle_timeout=BOUND))
    fake.script("c1", Fault(stall_after=3, stall=STALL))
    async with serve_relay(world, limits=limits) as gw, httpx.AsyncClient(timeout=30) as http:
        async with http.stream(
            "POST",
            f"{gw.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "m", "messages": [], "stream": True},
        ) as resp:
            raw = b"".join([chunk async for chunk in resp.aiter_raw()])
        assert resp.status_code == 200
        assert b'"content":" from "' in raw
        assert b'"content":"c1"' not in raw
        assert b"timed out" in raw
        record = gw.sink.records[0]
        assert record.status == "failed"
        assert record.error is not None
        assert "timed out" in record.error
        assert fake.tags() == ["c1"]  # committed: no failover after bytes went out
