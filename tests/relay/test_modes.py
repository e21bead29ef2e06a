"""Group modes over many requests, stickiness, cooldown with backoff and the single probe."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace

import httpx
import pytest

from octopus.records.group_mode import GroupMode
from octopus.routing.catalog import RelayConfig
from tests.fakes.doubles import FakeClock
from tests.fakes.gateway import Gateway, World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


async def _calls(gw: Gateway, key: str, count: int, http: httpx.AsyncClient) -> list[int]:
    statuses = []
    for _ in range(count):
        resp = await http.post(
            f"{gw.url}/v1/chat/completions", headers={"Authorization": f"Bearer {key}"}, json=BODY
        )
        statuses.append(resp.status_code)
    return statuses


def _setup(fake: FakeUpstream, world: World, mode: GroupMode, n: int = 3, **kwargs: object) -> str:
    world.channels.extend(channel(fake, i) for i in range(1, n + 1))
    world.groups.append(group("m", world.channels, mode, **kwargs))  # type: ignore[arg-type]
    return world.add_key()


async def test_round_robin_cycles(fake: FakeUpstream, world: World) -> None:
    key = _setup(fake, world, GroupMode.ROUND_ROBIN)
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        assert await _calls(gw, key, 9, http) == [200] * 9
    assert fake.tags() == ["c1", "c2", "c3"] * 3


async def test_weighted_follows_the_weights(fake: FakeUpstream, world: World) -> None:
    key = _setup(fake, world, GroupMode.WEIGHTED, n=2, weights=[1, 3])
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        await _calls(gw, key, 400, http)
    share = Counter(fake.tags())["c2"] / 400
    assert 0.67 < share < 0.83


async def test_random_reaches_every_member(fake: FakeUpstream, world: World) -> None:
    key = _setup(fake, world, GroupMode.RANDOM)
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        await _calls(gw, key, 60, http)
    counts = Counter(fake.tags())
    assert set(counts) == {"c1", "c2", "c3"}
    assert min(counts.values()) >= 8


async def test_failover_prefers_priority_and_remembers_failures(
    fake: FakeUpstream, world: World
) -> None:
    key = _setup(fake, world, GroupMode.FAILOVER)
    fake.script("c1", Fault(status=500))
    fake.script("c2", Fault(status=502))
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        assert await _calls(gw, key, 3, http) == [200] * 3
    assert fake.tags() == ["c1", "c2", "c3", "c3", "c3"]  # c1 and c2 cool down


async def test_manual_uses_only_the_active_member(fake: FakeUpstream, world: World) -> None:
    key = _setup(fake, world, GroupMode.MANUAL, active=101)
    fake.script("c2", Fault(status=500))
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        assert await _calls(gw, key, 3, http) == [502, 200, 200]  # never switches, never loops
    assert fake.tags() == ["c2"] * 3


async def test_stickiness_keeps_a_key_on_one_member(fake: FakeUpstream, world: World) -> None:
    key = _setup(fake, world, GroupMode.ROUND_ROBIN, config=RelayConfig(sticky_seconds=60))
    other = world.add_key()
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        await _calls(gw, key, 4, http)
        await _calls(gw, other, 1, http)  # round robin moved on: the other key lands elsewhere
        assert gw.routing.health.snapshot(1)["affinity_until"] > 0
        fake.script("c1", Fault(status=500))
        await _calls(gw, key, 2, http)  # the pinned member fails: the pin moves with the request
    assert fake.tags() == ["c1", "c1", "c1", "c1", "c2", "c1", "c3", "c3"]


async def test_cooldown_backs_off_and_one_probe_decides(fake: FakeUpstream, world: World) -> None:
    config = RelayConfig(cooldown=10.0, cooldown_max=25.0, response_timeout=5.0)
    key = _setup(fake, world, GroupMode.FAILOVER, n=2, config=config)
    clock = FakeClock()
    fake.script("c1", Fault(status=500), Fault(status=500), Fault(delay=0.3))
    async with serve_relay(world, clock=clock) as gw, httpx.AsyncClient() as http:
        await _calls(gw, key, 2, http)  # c1 fails -> cools 10 s
        assert fake.tags() == ["c1", "c2", "c2"]
        clock.advance(11)
        await _calls(gw, key, 1, http)  # the probe fails -> cools 20 s
        assert fake.tags()[3:] == ["c1", "c2"]
        assert gw.routing.health.cooldown_left(100) == pytest.approx(20.0)
        clock.advance(11)
        await _calls(gw, key, 1, http)  # still cooling
        assert fake.tags()[5:] == ["c2"]
        clock.advance(10)
        # one slow probe in flight: a concurrent request does not probe too
        probe = asyncio.create_task(_calls(gw, key, 1, http))
        await asyncio.sleep(0.1)
        assert gw.routing.health.snapshot(1)["probe_item_id"] == 100
        await _calls(gw, key, 1, http)
        assert await probe == [200]
        assert fake.tags()[6:] == ["c1", "c2"]
        await _calls(gw, key, 2, http)  # the probe succeeded: c1 is back
        assert fake.tags()[8:] == ["c1", "c1"]
        assert gw.routing.health.snapshot(1)["cooldowns"] == {}


async def test_everything_cooling_answers_429_with_retry_after(
    fake: FakeUpstream, world: World
) -> None:
    key = _setup(fake, world, GroupMode.FAILOVER, n=1, config=replace(RelayConfig(), cooldown=30.0))
    fake.script("c1", Fault(status=500))
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        assert await _calls(gw, key, 1, http) == [502]
        resp = await http.post(
            f"{gw.url}/v1/chat/completions", headers={"Authorization": f"Bearer {key}"}, json=BODY
        )
        assert resp.status_code == 429
        assert 25 <= int(resp.headers["retry-after"]) <= 30
        assert "cooling down" in resp.json()["error"]["message"]
        gw.routing.reset_group(1)
        assert await _calls(gw, key, 1, http) == [200]
    assert fake.tags() == ["c1", "c1"]
