"""Key limits shared by several gateway instances through the real Redis on 127.0.0.1:6379."""

from __future__ import annotations

import asyncio
import logging
import secrets
from pathlib import Path

import pytest
from redis.asyncio import Redis

from octopus.coordination.redis_limiter import RedisLimiter
from octopus.core.clock import SystemClock
from octopus.errors import Forbidden, RateLimited
from octopus.routing.catalog import ApiKey
from tests.fakes.doubles import FakeClock
from tests.fakes.redis_server import PrivateRedis

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def prefix() -> str:
    return f"octotest:{secrets.token_hex(4)}:"


def _pair(redis: Redis, prefix: str, **knobs: float) -> tuple[RedisLimiter, RedisLimiter]:
    clock = SystemClock()
    return RedisLimiter(redis, clock, prefix, **knobs), RedisLimiter(redis, clock, prefix, **knobs)


async def test_rpm_is_shared_between_instances(redis: Redis, prefix: str) -> None:
    first, second = _pair(redis, prefix, window=1.5)
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


async def test_concurrency_slots_are_shared_and_released(redis: Redis, prefix: str) -> None:
    first, second = _pair(redis, prefix)
    key = ApiKey(id=8, name="k", max_concurrency=2)
    lease_a = await first.acquire(key)
    await second.acquire(key)
    with pytest.raises(RateLimited):
        await first.acquire(key)
    first.settle(lease_a, 0, 0.0)
    await first.drain()
    await second.acquire(key)


async def test_a_crashed_holder_loses_its_slot_when_the_lease_runs_out(
    redis: Redis, prefix: str
) -> None:
    crashed, survivor = _pair(redis, prefix, lease_ttl=1.0)
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


async def test_tokens_per_minute_count_settled_usage(redis: Redis, prefix: str) -> None:
    first, second = _pair(redis, prefix)
    key = ApiKey(id=9, name="k", max_tpm=1000)
    lease = await first.acquire(key)
    first.settle(lease, 1200, 0.0)
    await first.drain()
    with pytest.raises(RateLimited, match="tokens per minute"):
        await second.acquire(key)


async def test_budget_is_shared_and_seeded_from_the_database(redis: Redis, prefix: str) -> None:
    first, second = _pair(redis, prefix)
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
    assert float(await redis.get(f"{prefix}{{k10}}:spent") or 0) == pytest.approx(1.05)
    with pytest.raises(Forbidden):
        await second.acquire(key)


async def test_unreachable_redis_falls_back_to_local_limits(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    limiter = RedisLimiter(client, SystemClock())
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
    await client.aclose()


def _spent_key(prefix: str, key_id: int) -> str:
    return f"{prefix}{{k{key_id}}}:spent"


async def test_a_restarting_instance_keeps_costs_not_yet_flushed(redis: Redis, prefix: str) -> None:
    running = RedisLimiter(redis, SystemClock(), prefix)
    key = ApiKey(id=12, name="k", max_cost=1.0)
    await running.seed({12: 0.2})
    running.settle(await running.acquire(key, reserve=0.5), 10, 0.5)
    await running.drain()
    restarted = RedisLimiter(redis, SystemClock(), prefix)
    await restarted.seed({12: 0.2})  # the database has not seen the 0.5 yet
    assert float(await redis.get(_spent_key(prefix, 12)) or 0) == pytest.approx(0.7)
    assert (await restarted.acquire(key, reserve=0.5)).reserved == pytest.approx(0.3)
    await restarted.seed({12: 0.9})  # Redis lost costs the database has: the higher one wins
    assert float(await redis.get(_spent_key(prefix, 12)) or 0) == pytest.approx(0.9)


async def test_a_lost_spent_counter_is_rebuilt_without_counting_twice(
    redis: Redis, prefix: str
) -> None:
    limiter = RedisLimiter(redis, SystemClock(), prefix)
    key = ApiKey(id=13, name="k", max_cost=1.0)
    lease = await limiter.acquire(key, reserve=0.3)
    await redis.delete(_spent_key(prefix, 13))  # Redis restarted without persistence
    limiter.settle(lease, 10, 0.2)
    await limiter.drain()
    assert float(await redis.get(_spent_key(prefix, 13)) or 0) == pytest.approx(0.2)
    await redis.delete(_spent_key(prefix, 13))
    limiter.add_spent(13, 0.3)  # an abandoned attempt's cost, owed to Redis
    limiter.settle(await limiter.acquire(key), 10, 0.1)
    await limiter.drain()
    assert float(await redis.get(_spent_key(prefix, 13)) or 0) == pytest.approx(0.6)


async def test_a_lease_granted_in_fallback_is_billed_once_redis_is_back(tmp_path: Path) -> None:
    server = PrivateRedis(tmp_path)
    server.start()
    await server.ready()
    clock = FakeClock()
    client = Redis.from_url(server.url, socket_connect_timeout=1)
    limiter, other = RedisLimiter(client, clock, call_timeout=5), RedisLimiter(client, clock)
    key = ApiKey(id=14, name="k", max_cost=1.0)
    try:
        server.stop()
        lease = await limiter.acquire(key, reserve=0.5)
        assert lease.token == ""
        assert limiter.mode == "local-fallback"
        server.start()
        await server.ready()
        clock.advance(5)  # past the retry delay: the limiter talks to Redis again
        other.settle(await other.acquire(key), 10, 0.2)  # another instance's cost
        await other.drain()
        limiter.settle(lease, 10, 0.4)  # granted while Redis was away, settled after
        limiter.settle(await limiter.acquire(key), 10, 0.1)
        await limiter.drain()
        assert float(await client.get(_spent_key("octopus:", 14)) or 0) == pytest.approx(0.7)
    finally:
        await client.aclose()
        server.stop()
