"""Key limits shared by several gateway instances through the real Redis on 127.0.0.1:6379."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import openai
import pytest
from redis.asyncio import Redis

from octopus.core.clock import FakeClock
from octopus.errors import Forbidden, RateLimited
from octopus.protocols import WireFormat
from octopus.routing.catalog import ApiKey
from octopus.shared.redis_limiter import RedisLimiter
from tests.fakes.upstream import FakeUpstream
from tests.harness import admin_client, serve, sqlite_settings

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    return f"octotest:{secrets.token_hex(4)}:"


def _pair(redis: Redis, prefix: str, clock: FakeClock) -> tuple[RedisLimiter, RedisLimiter]:
    return RedisLimiter(redis, clock, prefix), RedisLimiter(redis, clock, prefix)


async def test_rpm_is_shared_between_instances(redis: Redis, prefix: str) -> None:
    clock = FakeClock(start=1_800_000_000.0)  # the start of a minute
    first, second = _pair(redis, prefix, clock)
    key = ApiKey(id=7, name="k", max_rpm=3)
    await first.acquire(key)
    await second.acquire(key)
    await first.acquire(key)
    with pytest.raises(RateLimited) as info:
        await second.acquire(key)
    assert info.value.retry_after is not None
    assert 1 <= info.value.retry_after <= 60
    clock.advance(120)  # two minutes on, both buckets have aged out
    await second.acquire(key)


async def test_concurrency_slots_are_shared_and_released(redis: Redis, prefix: str) -> None:
    clock = FakeClock()
    first, second = _pair(redis, prefix, clock)
    key = ApiKey(id=8, name="k", max_concurrency=2)
    lease_a = await first.acquire(key)
    await second.acquire(key)
    with pytest.raises(RateLimited):
        await first.acquire(key)
    first.release(lease_a, tokens=0)
    await first.drain()
    await second.acquire(key)


async def test_tokens_per_minute_count_released_usage(redis: Redis, prefix: str) -> None:
    clock = FakeClock(start=1_800_000_000.0)
    first, second = _pair(redis, prefix, clock)
    key = ApiKey(id=9, name="k", max_tpm=1000)
    lease = await first.acquire(key)
    first.release(lease, tokens=1200)
    await first.drain()
    with pytest.raises(RateLimited, match="tokens per minute"):
        await second.acquire(key)


async def test_budget_is_shared_and_seeded_from_the_database(redis: Redis, prefix: str) -> None:
    clock = FakeClock()
    first, second = _pair(redis, prefix, clock)
    key = ApiKey(id=10, name="k", max_cost=1.0)
    await first.seed({10: 0.6})
    await second.acquire(key)
    first.add_spent(10, 0.5)
    await first.drain()
    with pytest.raises(Forbidden):
        await second.acquire(key)


async def test_unreachable_redis_fails_open() -> None:
    client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    limiter = RedisLimiter(client, FakeClock())
    lease = await limiter.acquire(ApiKey(id=1, name="k", max_rpm=1))
    assert lease.key_id == 1
    limiter.release(lease, 10)
    await limiter.drain()
    await client.aclose()


@pytest.mark.integration
async def test_two_gateways_share_one_rpm_limit(tmp_path: Path, prefix: str) -> None:
    fake = await FakeUpstream().start()
    settings = sqlite_settings(tmp_path, redis_url=REDIS_URL, redis_prefix=prefix)
    try:
        async with serve(settings) as one, serve(settings) as two:
            admin = await admin_client(one)
            channel = await admin.post(
                "/api/v1/channel/create",
                json={
                    "name": "c",
                    "type": "openai",
                    "base_url": fake.base("c", WireFormat.OPENAI_CHAT),
                    "key": "sk-upstream-c-0123456789",
                    "model": "m",
                },
            )
            await admin.post(
                "/api/v1/group/create",
                json={
                    "name": "g",
                    "items": [{"channel_id": channel.json()["data"]["id"], "model_name": "m"}],
                },
            )
            created = await admin.post(
                "/api/v1/apikey/create", json={"name": f"shared-{prefix}", "max_rpm": 2}
            )
            api_key = created.json()["data"]["api_key"]
            await admin.aclose()
            await two.app.admin.state.catalog.reload()  # the second instance sees the new rows
            clients = [
                openai.AsyncOpenAI(base_url=gw.url + "/v1", api_key=api_key, max_retries=0)
                for gw in (one, two, one)
            ]
            ask = {"model": "g", "messages": [{"role": "user", "content": "hi"}]}
            await clients[0].chat.completions.create(**ask)  # type: ignore[call-overload]
            await clients[1].chat.completions.create(**ask)  # type: ignore[call-overload]
            with pytest.raises(openai.RateLimitError):
                await clients[2].chat.completions.create(**ask)  # type: ignore[call-overload]
            for client in clients:
                await client.close()
    finally:
        await fake.stop()
