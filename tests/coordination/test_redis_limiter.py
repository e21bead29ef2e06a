"""Key limits shared by several gateway instances through the real Redis on 127.0.0.1:6379."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from redis.asyncio import Redis

from octopus.coordination.link import RETRY_SECONDS, RedisLink
from octopus.coordination.redis_limiter import FLUSH_EVERY, RedisLimiter
from octopus.coordination.resp import Arg
from octopus.core.clock import SystemClock
from octopus.errors import Forbidden, RateLimited
from octopus.routing.catalog import ApiKey
from tests.fakes.doubles import FakeClock
from tests.fakes.redis_server import PrivateRedis

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def prefix() -> str:
    return f"octotest:{secrets.token_hex(4)}:"


@pytest.fixture
async def link(prefix: str) -> AsyncIterator[RedisLink]:
    """One process's link to the real Redis; limiters on it stand for gateway processes."""
    shared = RedisLink(REDIS_URL, prefix)
    yield shared
    await shared.close()


@pytest.fixture
def redis(link: RedisLink) -> Redis:
    return link.redis


def _pair(link: RedisLink, **knobs: float) -> tuple[RedisLimiter, RedisLimiter]:
    clock = SystemClock()
    return RedisLimiter(link, clock, **knobs), RedisLimiter(link, clock, **knobs)


async def test_rpm_is_shared_between_instances(link: RedisLink, redis: Redis) -> None:
    first, second = _pair(link, window=1.5)
    key = ApiKey(id=7, name="k", max_rpm=3)
    await first.acquire(key)
    await second.acquire(key)
    await first.acquire(key)
    with pytest.raises(RateLimited) as info:
        await second.acquire(key)
    assert info.value.retry_after is not None
    assert 1 <= info.value.retry_after <= 2
    await asyncio.sleep(1.6)  # the sliding window (on Redis time) has moved past all three
    await second.acquire(key)


async def test_concurrency_slots_are_shared_and_released(link: RedisLink, redis: Redis) -> None:
    first, second = _pair(link)
    key = ApiKey(id=8, name="k", max_concurrency=2)
    lease_a = await first.acquire(key)
    await second.acquire(key)
    with pytest.raises(RateLimited):
        await first.acquire(key)
    first.settle(lease_a, 0, 0.0)
    await first.drain()
    await second.acquire(key)


async def test_a_crashed_holder_loses_its_slot_when_the_lease_runs_out(
    link: RedisLink, redis: Redis
) -> None:
    crashed, survivor = _pair(link, lease_ttl=1.0)
    key = ApiKey(id=11, name="k", max_concurrency=1)
    await crashed.acquire(key)
    crashed._live.clear()  # it dies: nothing renews its lease any more
    with pytest.raises(RateLimited):
        await survivor.acquire(key)
    await asyncio.sleep(1.2)
    lease = await survivor.acquire(key)
    await asyncio.sleep(1.2)  # a live lease is renewed: the slot stays taken past the TTL
    with pytest.raises(RateLimited):
        await crashed.acquire(key)
    survivor.settle(lease, 0, 0.0)
    await survivor.drain()
    await crashed.drain()


async def test_tokens_per_minute_count_settled_usage(link: RedisLink, redis: Redis) -> None:
    first, second = _pair(link)
    key = ApiKey(id=9, name="k", max_tpm=1000)
    lease = await first.acquire(key)
    first.settle(lease, 1200, 0.0)
    await first.drain()
    with pytest.raises(RateLimited, match="tokens per minute"):
        await second.acquire(key)


async def test_slotless_settles_are_added_together_within_the_flush_delay(
    link: RedisLink, redis: Redis
) -> None:
    first, second = _pair(link)
    key = ApiKey(id=11, name="k", max_tpm=1000, max_cost=5.0)
    calls = 0
    settle = first._settle

    async def counted(keys: Sequence[Arg], args: Sequence[Arg]) -> object:
        nonlocal calls
        calls += 1
        return await settle(keys, args)

    first._settle = counted
    leases = [await first.acquire(key) for _ in range(5)]  # no reserve: no hold to give back
    for lease in leases:
        first.settle(lease, 250, 0.5)
    tpm = f"{link.prefix}{{k11}}:tpm"
    assert not await redis.hgetall(tpm), "nothing is sent before the flush delay"
    await asyncio.sleep(FLUSH_EVERY * 4)
    await first.drain()
    assert calls == 1, "five settles of one key went in one call"
    assert sum(int(v) for v in (await redis.hgetall(tpm)).values()) == 1250
    assert float(await redis.get(_spent_key(link.prefix, 11)) or 0) == pytest.approx(2.5)
    with pytest.raises(RateLimited, match="tokens per minute"):
        await second.acquire(key)


async def test_budget_is_shared_and_seeded_from_the_database(link: RedisLink, redis: Redis) -> None:
    first, second = _pair(link)
    key = ApiKey(id=10, name="k", max_cost=1.0)
    await first.seed({10: 0.6})
    lease = await second.acquire(key, reserve=0.3)
    assert lease.reserved == pytest.approx(0.3)
    clipped = await first.acquire(key, reserve=0.3)  # 0.1 left beside the first hold
    assert clipped.reserved == pytest.approx(0.1)
    with pytest.raises(Forbidden):
        await second.acquire(key, reserve=0.3)
    second.settle(lease, 10, 0.2)
    first.settle(clipped, 10, 0.25)
    await first.drain()
    await second.drain()
    assert float(await redis.get(_spent_key(link.prefix, 10)) or 0) == pytest.approx(1.05)
    with pytest.raises(Forbidden):
        await second.acquire(key)


async def test_unreachable_redis_falls_back_to_local_limits(
    caplog: pytest.LogCaptureFixture,
) -> None:
    away = RedisLink("redis://127.0.0.1:1/0", "octopus:")
    limiter = RedisLimiter(away, SystemClock())
    key = ApiKey(id=1, name="k", max_rpm=1)
    with caplog.at_level(logging.WARNING, logger="octopus.coordination"):
        lease = await limiter.acquire(key)
    assert lease.token == ""
    assert limiter.mode == "local-fallback"
    assert "enforced per process" in caplog.text
    with pytest.raises(RateLimited):  # never unlimited
        await limiter.acquire(key)
    limiter.settle(lease, 10, 0.0)
    await limiter.drain()
    await away.close()


def _spent_key(prefix: str, key_id: int) -> str:
    return f"{prefix}{{k{key_id}}}:spent"


async def test_a_restarting_instance_keeps_costs_not_yet_flushed(
    link: RedisLink, redis: Redis
) -> None:
    running = RedisLimiter(link, SystemClock())
    key = ApiKey(id=12, name="k", max_cost=1.0)
    await running.seed({12: 0.2})
    running.settle(await running.acquire(key, reserve=0.5), 10, 0.5)
    await running.drain()
    restarted = RedisLimiter(link, SystemClock())
    await restarted.seed({12: 0.2})  # the database has not seen the 0.5 yet
    assert float(await redis.get(_spent_key(link.prefix, 12)) or 0) == pytest.approx(0.7)
    assert (await restarted.acquire(key, reserve=0.5)).reserved == pytest.approx(0.3)
    await restarted.seed({12: 0.9})  # Redis lost costs the database has: the higher one wins
    assert float(await redis.get(_spent_key(link.prefix, 12)) or 0) == pytest.approx(0.9)


async def test_a_lost_spent_counter_is_rebuilt_without_counting_twice(
    link: RedisLink, redis: Redis
) -> None:
    limiter = RedisLimiter(link, SystemClock())
    key = ApiKey(id=13, name="k", max_cost=1.0)
    lease = await limiter.acquire(key, reserve=0.3)
    await redis.delete(_spent_key(link.prefix, 13))  # Redis restarted without persistence
    limiter.settle(lease, 10, 0.2)
    await limiter.drain()
    assert float(await redis.get(_spent_key(link.prefix, 13)) or 0) == pytest.approx(0.2)
    await redis.delete(_spent_key(link.prefix, 13))
    limiter.add_spent(13, 0.3)  # an abandoned attempt's cost, owed to Redis
    limiter.settle(await limiter.acquire(key), 10, 0.1)
    await limiter.drain()
    assert float(await redis.get(_spent_key(link.prefix, 13)) or 0) == pytest.approx(0.6)


async def test_a_lease_granted_in_fallback_is_billed_once_redis_is_back(tmp_path: Path) -> None:
    server = PrivateRedis(tmp_path)
    server.start()
    await server.ready()
    clock = FakeClock()
    link = RedisLink(server.url, "octopus:")
    client = link.redis
    limiter, other = (
        RedisLimiter(link, clock, call_timeout=5),
        RedisLimiter(link, clock, call_timeout=5),
    )
    key = ApiKey(id=14, name="k", max_cost=1.0)
    try:
        server.stop()
        lease = await limiter.acquire(key, reserve=0.5)
        assert lease.token == ""
        assert limiter.mode == "local-fallback"
        server.start()
        await server.ready()
        await asyncio.sleep(RETRY_SECONDS + 0.1)  # past the link's retry delay: Redis again
        other.settle(await other.acquire(key), 10, 0.2)  # another instance's cost
        await other.drain()
        limiter.settle(lease, 10, 0.4)  # granted while Redis was away, settled after
        limiter.settle(await limiter.acquire(key), 10, 0.1)
        await limiter.drain()
        assert float(await client.get(_spent_key("octopus:", 14)) or 0) == pytest.approx(0.7)
    finally:
        await link.close()
        server.stop()
