"""`RedisLink.send` / `reply`: a request's limiter and routing scripts in one write, real Redis."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest

from octopus.coordination.link import RedisLink
from octopus.coordination.redis_limiter import RedisLimiter
from octopus.coordination.routing import RedisRouting, SharedHealth
from octopus.core.clock import SystemClock
from octopus.errors import RateLimited
from octopus.records.group_mode import GroupMode
from octopus.routing.catalog import ApiKey, Group, GroupMember
from octopus.routing.state import RoutingState
from tests.conftest import REDIS_URL
from tests.coordination.wire import record_writes

GROUP = Group(3, "g", GroupMode.ROUND_ROBIN, (GroupMember(1, 1, "m"), GroupMember(2, 2, "m")))


@pytest.fixture
async def link() -> AsyncIterator[RedisLink]:
    shared = RedisLink(REDIS_URL, f"octotest:{secrets.token_hex(4)}:")
    yield shared
    await shared.close()


def _routing(link: RedisLink) -> RoutingState:
    state = RoutingState.in_memory(SystemClock())
    health = SharedHealth(SystemClock(), link)
    state.health, state.shared = health, RedisRouting(link, health)
    return state


async def test_the_route_and_the_limiter_call_of_a_request_leave_in_one_write(
    link: RedisLink,
) -> None:
    state, limiter = _routing(link), RedisLimiter(link, SystemClock())
    key = ApiKey(1, "k", max_rpm=100)
    await limiter.acquire(key)  # connected, scripts cached
    assert link.fast is not None
    writes = record_writes(link.fast)
    turns = []
    for _ in range(4):
        route = state.ask(GROUP, key.id)
        await limiter.acquire(key)
        turns.append((await state.begin(GROUP, key.id, route))[0])
    assert len(writes) == 4, "one write per request: route and acquire together"
    assert turns == [0, 1, 2, 3], "the shared turns, in order"
    await limiter.drain()


async def test_a_refused_request_drops_its_route_and_the_next_one_reads_its_own(
    link: RedisLink,
) -> None:
    state, limiter = _routing(link), RedisLimiter(link, SystemClock())
    key = ApiKey(2, "k", max_rpm=1)
    await limiter.acquire(key)
    route = state.ask(GROUP, key.id)
    with pytest.raises(RateLimited):
        await limiter.acquire(key)
    assert route is not None
    route.drop()  # what RelayService does: its turn is used, its reply never read
    assert await state.begin(GROUP, key.id) == (1, None), "the refused request took turn 0"
    assert link.up


async def test_a_script_redis_has_not_cached_is_sent_whole(link: RedisLink) -> None:
    script = link.script(f"return '{secrets.token_hex(8)}'")  # a body Redis never saw: NOSCRIPT
    await link.redis.ping()
    assert link.fast is not None
    await link.fast.execute("PING")  # connected: `send` issues EVALSHA at once
    call = link.send(script, [], [], 1.0)  # a busy test machine must not make it a timeout
    assert call.future is not None
    assert len(await link.reply(call, None)) == 16
    assert link.up, "NOSCRIPT is not a Redis failure"
