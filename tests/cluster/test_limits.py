"""Key limits through Redis seen from real processes (the limiter itself: tests/coordination)."""

from __future__ import annotations

import asyncio

import pytest

from tests.cluster.fleet import answers, make_routing
from tests.cluster.harness import Cluster, login, wait_ready
from tests.fakes.upstream import FakeUpstream

pytestmark = pytest.mark.integration


async def test_two_instances_share_one_rpm_limit(
    pg_cluster: Cluster, upstream: FakeUpstream
) -> None:
    one, two = pg_cluster.launch("one"), pg_cluster.launch("two")
    await asyncio.gather(wait_ready(one), wait_ready(two))
    async with login(one) as admin:
        routing = await make_routing(admin, upstream, key={"max_rpm": 2})
    await asyncio.sleep(1.5)  # the new key is live on `two` (promised within 1 s)
    codes = [await answers(gateway, routing.api_key) for gateway in (one, two, one, two)]
    assert codes == [200, 200, 429, 429]
