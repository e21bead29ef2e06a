"""Channel keys: rotation, 401/403 disables a key (reported with its reason), 429 rests it."""

from __future__ import annotations

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
    return [r.headers["authorization"].rsplit("-", 1)[1] for r in fake.received]


async def test_keys_rotate(fake: FakeUpstream, world: World) -> None:
    key = _one_channel(fake, world)
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        for _ in range(6):
            assert (await _post(http, gw.url, key)).status_code == 200
    assert _used(fake) == ["0", "1", "2", "0", "1", "2"]


async def test_rejected_key_is_disabled_with_its_reason(fake: FakeUpstream, world: World) -> None:
    key = _one_channel(fake, world)
    fake.script(
        "c1",
        Fault(
            status=401,
            body=b'{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}',
        ),
    )
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        assert (await _post(http, gw.url, key)).status_code == 200  # the next key answered
        for _ in range(4):
            await _post(http, gw.url, key)
        assert gw.events.disabled == [(1, 100, "upstream answered 401: Incorrect API key provided")]
        assert gw.routing.keys.disabled_reason(1, 100) is not None
        assert gw.routing.health.cooldown_left(100) == 0  # a bad key does not cool the member
    assert _used(fake)[:2] == ["0", "1"]
    assert "0" not in _used(fake)[1:]


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
