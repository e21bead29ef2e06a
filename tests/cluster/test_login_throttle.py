"""Login attempts counted once across instances: an attacker gets no more tries per instance."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.cluster.harness import Cluster, Instance, wait_ready

pytestmark = pytest.mark.integration
WRONG = {"username": "admin", "password": "not-the-password", "expire": 60}


async def _attempt(instance: Instance) -> httpx.Response:
    async with instance.client() as client:
        return await client.post("/api/v1/user/login", json=WRONG)


async def test_two_instances_share_one_attempt_budget_per_address(pg_cluster: Cluster) -> None:
    one, two = pg_cluster.launch("one"), pg_cluster.launch("two")
    await asyncio.gather(wait_ready(one), wait_ready(two))
    # ten guesses at once, five per instance: attempts are counted before the hash is checked,
    # and the address budget (three free, then a growing wait) is one for the fleet
    replies = await asyncio.gather(*(_attempt(g) for g in [one, two] * 5))
    codes = sorted(reply.status_code for reply in replies)
    assert codes == [401] * 4 + [429] * 6, codes  # per process it would be 8 × 401, 2 × 429
    for refused in (r for r in replies if r.status_code == 429):
        assert "Too many failed logins" in refused.json()["message"]
        assert int(refused.headers["retry-after"]) >= 1
