"""Channel keys: rotation; 403 and 429 rest a key, a 401 rests it until a probe decides."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from tests.fakes.gateway import World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def _one_channel(fake: FakeUpstream, world: World, keys: int = 3) -> str:
    world.channels.append(channel(fake, 1, keys=keys))
    world.groups.append(group("m", world.channels))
    return world.add_key()


async def _post(http: httpx.AsyncClient, url: str, key: str) -> httpx.Response:
    return await http.post(
        f"{url}/v1/chat/completions", headers={"Authorization": f"Bearer {key}"}, json=BODY
    )


def _used(fake: FakeUpstream) -> list[str]:
    posts = [r for r in fake.received if r.method == "POST"]
    return [r.headers["authorization"].rsplit("-", 1)[1] for r in posts]


async def test_keys_rotate(fake: FakeUpstream, world: World) -> None:
    key = _one_channel(fake, world)
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        for _ in range(6):
            assert (await _post(http, gw.url, key)).status_code == 200
    assert _used(fake) == ["0", "1", "2", "0", "1", "2"]


async def _until(check: Callable[[], bool]) -> None:
    for _ in range(200):
        if check():
            return
        await asyncio.sleep(0.025)
    raise AssertionError("condition not reached in 5 s")


async def test_a_401_confirmed_by_the_probe_disables_the_key(
    fake: FakeUpstream, world: World
) -> None:
    key = _one_channel(fake, world)
    fake.refused_keys["upstream-secret-c1-0"] = 401
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        assert (await _post(http, gw.url, key)).status_code == 200  # the next key answered
        await _until(lambda: bool(gw.events.disabled))
        ((channel_id, key_id, reason),) = gw.events.disabled
        assert (channel_id, key_id) == (1, 100)
        assert reason.startswith("upstream answered 401, confirmed by the models endpoint")
        assert gw.routing.keys.disabled_reason(1, 100) == reason
        assert gw.routing.health.cooldown_left(100) == 0  # a bad key does not cool the member
        for _ in range(3):
            assert (await _post(http, gw.url, key)).status_code == 200
    probes = [r for r in fake.received if r.method == "GET"]
    assert [p.path for p in probes] == ["/v1/models"]
    assert probes[0].headers["authorization"] == "Bearer upstream-secret-c1-0"
    assert "0" not in _used(fake)[1:]


async def test_a_401_the_probe_does_not_confirm_only_rests_the_key_briefly(
    fake: FakeUpstream, world: World
) -> None:
    key = _one_channel(fake, world, keys=2)
    fake.script("c1", Fault(status=401))  # this request only: the key itself is fine
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        assert (await _post(http, gw.url, key)).status_code == 200
        await _until(lambda: any(r.method == "GET" for r in fake.received))
        await _until(lambda: gw.routing.keys.resting(1, 100) is None)
        for _ in range(2):
            assert (await _post(http, gw.url, key)).status_code == 200
        assert gw.events.disabled == []
    posts = [r for r in fake.received if r.method == "POST"]
    assert sorted(p.headers["authorization"][-1] for p in posts[-2:]) == ["0", "1"]


async def test_a_403_only_rests_the_key_and_the_admin_can_lift_it(
    fake: FakeUpstream, world: World
) -> None:
    key = _one_channel(fake, world, keys=2)
    fake.script("c1", Fault(status=403))
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        assert (await _post(http, gw.url, key)).status_code == 200
        resting = gw.routing.keys.resting(1, 100)
        assert resting is not None
        assert resting[1].startswith("upstream answered 403")
        assert gw.events.disabled == []
        assert [k.id for k in gw.routing.keys.usable(world.channels[0])] == [101]
        gw.routing.keys.clear(1)  # what saving or enabling the channel in the admin does
        assert gw.routing.keys.resting(1, 100) is None
        assert len(gw.routing.keys.usable(world.channels[0])) == 2
    assert not any(r.method == "GET" for r in fake.received)  # no probe for a 403


async def test_rate_limited_key_rests_for_retry_after(fake: FakeUpstream, world: World) -> None:
    key = _one_channel(fake, world, keys=2)
    fake.script("c1", Fault(status=429, headers={"Retry-After": "30"}))
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        for _ in range(3):
            assert (await _post(http, gw.url, key)).status_code == 200
        assert gw.events.resting == [(1, 100, 30.0)]
    assert _used(fake) == ["0", "1", "1", "1"]


async def test_rate_limit_without_retry_after_rests_sixty_seconds(
    fake: FakeUpstream, world: World
) -> None:
    key = _one_channel(fake, world, keys=1)
    fake.script("c1", Fault(status=429))
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        first = await _post(http, gw.url, key)
        assert first.status_code == 429  # the provider said rate limited: 429 stays 429
        assert first.headers["retry-after"] == "60"  # when the resting key is back
        second = await _post(http, gw.url, key)
        assert second.status_code == 429  # nothing to try until then: still a 429, not a 503
        assert 55 <= int(second.headers["retry-after"]) <= 60
        assert gw.events.resting == [(1, 100, 60.0)]
    assert len(fake.received) == 1
