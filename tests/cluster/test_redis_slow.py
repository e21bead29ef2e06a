"""Redis slow or silent behind a delaying proxy: requests still answer at once, /readyz says so."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.cluster.conftest import cluster_env
from tests.cluster.fleet import ask, make_routing
from tests.cluster.harness import Cluster, Instance, login, within
from tests.fakes.slow_tcp import SlowProxy
from tests.fakes.upstream import FakeUpstream

pytestmark = pytest.mark.integration
REDIS_PORT = 6379
WORST = 1.0  # seconds one request may take with Redis 2 s late (the promise: 50 ms added)


@pytest.fixture
async def slow_redis() -> AsyncIterator[SlowProxy]:
    proxy = await SlowProxy(REDIS_PORT).start()
    yield proxy
    await proxy.close()


async def _modes(gateway: Instance, admin: httpx.AsyncClient) -> list[str]:
    async with gateway.client() as client:
        ready = (await client.get("/readyz")).json()["coordination"]
    runtime = (await admin.get("/api/v1/runtime/coordination")).json()["data"]["coordination"]
    return [str(ready), str(runtime)]


async def _fallback_throughout(
    gateway: Instance, admin: httpx.AsyncClient, seconds: float = 3.0
) -> list[list[str]]:
    """Every mode seen over `seconds` (several recovery probes) that is not `local-fallback`."""
    wrong, until = [], time.monotonic() + seconds
    while time.monotonic() < until:
        modes = await _modes(gateway, admin)
        if modes != ["local-fallback"] * 2:
            wrong.append(modes)
        await asyncio.sleep(0.2)
    return wrong


async def _slowest(gateway: Instance, api_key: str, count: int = 20) -> float:
    slowest = 0.0
    for _ in range(count):
        started = time.monotonic()
        reply = await ask(gateway, api_key)
        slowest = max(slowest, time.monotonic() - started)
        assert reply.status_code == 200, reply.text
    return slowest


async def test_a_late_or_silent_redis_falls_back_without_slowing_requests(
    tmp_path: Path, pg_dsn: str, prefix: str, slow_redis: SlowProxy, upstream: FakeUpstream
) -> None:
    cluster = Cluster(tmp_path, cluster_env(pg_dsn, prefix) | {"OCTOPUS_REDIS_URL": slow_redis.url})
    try:
        gateway = await cluster.start("a")
        async with login(gateway) as admin:
            # an RPM limit and a round-robin group: each request calls Redis twice
            key: dict[str, object] = {"max_rpm": 10_000}
            routing = await make_routing(admin, upstream, ("c1", "c2"), key=key)
            assert await _slowest(gateway, routing.api_key, 4) < WORST
            assert await _modes(gateway, admin) == ["redis", "redis"]
            for late, silent in ((2.0, False), (0.2, False), (0.0, True)):
                slow_redis.delay, slow_redis.blackhole = late, silent
                slowest = await _slowest(gateway, routing.api_key)
                print(f"Redis {late} s late / silent={silent}: slowest {slowest:.3f} s")  # noqa: T201
                assert slowest < WORST
                # 200 ms late answers a ping in time for a background call, not for a request:
                # the mode must hold, not flip back to `redis` at each recovery probe
                assert await _fallback_throughout(gateway, admin) == []
                slow_redis.delay, slow_redis.blackhole = 0.0, False

                async def back(admin: httpx.AsyncClient = admin) -> bool:
                    return await _modes(gateway, admin) == ["redis", "redis"]

                await within(back, 10.0, "Redis prompt again: shared state back, no restart")
            assert {"c1", "c2"} <= set(upstream.tags()), "turns kept going"
            assert "redis unavailable" in gateway.log()
            assert "key limits are enforced per process" in gateway.log()
    finally:
        cluster.stop()
