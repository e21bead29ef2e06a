"""Background jobs run once per period across the fleet (a Redis lease), and on every instance
while Redis is away. Observed through model sync: each run lists the channel's upstream models."""

from __future__ import annotations

import asyncio
import secrets
import signal

import pytest

from tests.cluster.fleet import make_channel
from tests.cluster.harness import DEAD_REDIS_URL, Cluster, login, wait_ready
from tests.fakes.upstream import FakeUpstream

pytestmark = pytest.mark.integration


def _model_lists(upstream: FakeUpstream) -> int:
    return sum(
        1 for r in upstream.calls("sync") if r.method == "GET" and r.path.endswith("/models")
    )


async def _start_three(cluster: Cluster, extra: dict[str, str]) -> None:
    instances = [cluster.launch(name, extra) for name in ("a", "b", "c")]
    await asyncio.gather(*(wait_ready(i) for i in instances))


def _stop_all(cluster: Cluster) -> None:
    for instance in cluster.instances:
        instance.kill(signal.SIGTERM)
    for instance in cluster.instances:
        instance.popen.wait(timeout=40)
    cluster.instances.clear()


async def _settled(upstream: FakeUpstream) -> int:
    """The model lists made once start-up runs had time to happen (they run at start-up)."""
    await asyncio.sleep(2.0)
    return _model_lists(upstream)


async def test_a_job_runs_once_across_three_instances_and_everywhere_without_redis(
    pg_cluster: Cluster, upstream: FakeUpstream
) -> None:
    first = await pg_cluster.start("setup")
    async with login(first) as admin:
        channel_id = await make_channel(admin, upstream, "sync")
        updated = await admin.post(
            "/api/v1/channel/update", json={"id": channel_id, "auto_sync": True}
        )
        assert updated.status_code == 200, updated.text
    _stop_all(pg_cluster)

    before = _model_lists(upstream)
    fresh = {"OCTOPUS_REDIS_PREFIX": f"octojob{secrets.token_hex(3)}:"}  # no lease held yet
    await _start_three(pg_cluster, fresh)
    assert await _settled(upstream) - before == 1, "one instance of three ran the start-up sync"
    _stop_all(pg_cluster)

    before = _model_lists(upstream)
    await _start_three(pg_cluster, {"OCTOPUS_REDIS_URL": DEAD_REDIS_URL})
    assert await _settled(upstream) - before == 3, "without Redis each instance runs its jobs"
