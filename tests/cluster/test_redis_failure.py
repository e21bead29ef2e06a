"""A private Redis stopped and started again: local fallback, then recovery without a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cluster.conftest import cluster_env
from tests.cluster.fleet import all_answer, answers, make_routing
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
    # `a` writes; `b` polls only every LONG_POLL seconds: what it sees came through Redis
    cluster = Cluster(
        tmp_path, cluster_env(pg_dsn, prefix) | {"OCTOPUS_REDIS_URL": private_redis.url}
    )
    try:
        a, b = cluster.launch("a"), cluster.launch("b")
        await asyncio.gather(wait_ready(a), wait_ready(b))
        assert await _mode(a) == "redis"
        private_redis.stop()

        async def both_fell_back() -> bool:
            return [await _mode(a), await _mode(b)] == ["local-fallback"] * 2

        await within(both_fell_back, 10.0, "Redis gone: both report local-fallback")
        async with login(a) as admin:
            routing = await make_routing(admin, upstream)  # written while Redis is away
            assert await answers(a, routing.api_key) == 200
            assert await answers(b, routing.api_key) == 401, "b heard nothing (no Redis, no poll)"
            private_redis.start()

            async def both_recovered() -> bool:
                return [await _mode(a), await _mode(b)] == ["redis"] * 2

            await within(both_recovered, 10.0, "Redis back: both report redis, no restart")
            assert "redis unavailable" in a.log()
            assert "redis reachable again" in a.log()
            await within(
                lambda: all_answer([b], routing.api_key, 200),
                10.0,
                "b caught up on what was written while Redis was away",
            )
            key = {"id": routing.key_id, "enabled": False}
            (await admin.post("/api/v1/apikey/update", json=key)).raise_for_status()
            await within(
                lambda: all_answer([a, b], routing.api_key, 403), 10.0, "after recovery: pub/sub"
            )
    finally:
        cluster.stop()
