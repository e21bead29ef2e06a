"""A private Redis stopped and started again: local fallback, then recovery without a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cluster.conftest import cluster_env
from tests.cluster.fleet import all_answer, make_routing
from tests.cluster.harness import Cluster, Instance, login, wait_ready, within
from tests.fakes.redis_server import PrivateRedis
from tests.fakes.upstream import FakeUpstream

pytestmark = pytest.mark.integration


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    redis = PrivateRedis(tmp_path)
    redis.start()
    yield redis
    redis.stop()


async def _mode(instance: Instance) -> str:
    async with httpx.AsyncClient(timeout=5) as client:
        return str((await client.get(instance.url + "/readyz")).json()["coordination"])


async def test_redis_restart_falls_back_then_recovers_without_restart(
    tmp_path: Path, pg_dsn: str, prefix: str, private_redis: PrivateRedis, upstream: FakeUpstream
) -> None:
    env = cluster_env(pg_dsn, prefix) | {
        "OCTOPUS_REDIS_URL": f"redis://127.0.0.1:{private_redis.port}/0"
    }
    cluster = Cluster(tmp_path, env)
    try:
        a, b = cluster.launch("a"), cluster.launch("b")
        await asyncio.gather(wait_ready(a), wait_ready(b))
        assert await _mode(a) == "redis"
        private_redis.stop()

        async def both_fell_back() -> bool:
            return [await _mode(a), await _mode(b)] == ["local-fallback"] * 2

        await within(both_fell_back, 5.0, "Redis gone: both report local-fallback")
        admin = await login(a)
        routing = await make_routing(admin, upstream)  # written while Redis is away
        await within(lambda: all_answer([a, b], routing.api_key, 200), 5.0, "key live via the poll")
        private_redis.start()

        async def both_recovered() -> bool:
            return [await _mode(a), await _mode(b)] == ["redis"] * 2

        await within(both_recovered, 5.0, "Redis back: both report redis, no restart")
        assert "redis unavailable" in a.log()
        assert "redis reachable again" in a.log()
        await admin.post("/api/v1/apikey/update", json={"id": routing.key_id, "enabled": False})
        await within(
            lambda: all_answer([a, b], routing.api_key, 403), 1.0, "after recovery: pub/sub again"
        )
        await admin.aclose()
    finally:
        cluster.stop()
