"""Key limits through Redis seen from real processes (the limiter itself: tests/coordination)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.cluster.fleet import ASK, answers, ask, make_routing, worker_pids
from tests.cluster.harness import Cluster, Instance, login, wait_ready
from tests.fakes.upstream import FakeUpstream, Fault

pytestmark = pytest.mark.integration
LEASE_TTL = 30.0  # coordination/redis_limiter.py


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


async def test_a_10_rpm_key_gets_exactly_10_answers_over_2_instances_of_2_workers(
    pg_cluster: Cluster, upstream: FakeUpstream
) -> None:
    one, two = (pg_cluster.launch(name, None, "--workers", "2") for name in ("one", "two"))
    await asyncio.gather(wait_ready(one), wait_ready(two))
    pids = [await worker_pids(gateway, 2) for gateway in (one, two)]
    assert [len(p) for p in pids] == [2, 2], "four worker processes answer on the two ports"
    async with login(one) as admin:
        routing = await make_routing(admin, upstream, key={"max_rpm": 10})
    await asyncio.sleep(1.5)  # the new key is live on every worker (promised within 1 s)
    replies = await asyncio.gather(*(ask(g, routing.api_key) for g in [one, two] * 12))
    codes = [reply.status_code for reply in replies]
    assert codes.count(200) == 10, codes
    assert codes.count(429) == 14, codes
    assert len(upstream.calls("c1")) == 10
    for refused in (r for r in replies if r.status_code == 429):
        error = refused.json()["error"]
        assert error["type"] == "rate_limit_error"
        assert "10 requests per minute" in error["message"]
        assert int(refused.headers["retry-after"]) >= 1


@pytest.mark.slow
async def test_a_killed_workers_concurrency_slot_comes_back_within_the_lease(
    pg_cluster: Cluster, upstream: FakeUpstream
) -> None:
    gateway = pg_cluster.launch("w", None, "--workers", "2")
    await wait_ready(gateway)
    async with login(gateway) as admin:
        routing = await make_routing(admin, upstream, key={"max_concurrency": 1})
    await asyncio.sleep(1.5)
    upstream.always["c1"] = Fault(stall_after=1, stall=120.0)  # the held request never ends
    headers = {"Authorization": f"Bearer {routing.api_key}"}
    async with (
        gateway.client() as client,
        client.stream(
            "POST", "/v1/chat/completions", json={**ASK, "stream": True}, headers=headers
        ) as held,
    ):
        assert held.status_code == 200  # the slot is taken on the shared Redis
        assert (await ask(gateway, routing.api_key)).status_code == 429
        holder = _serving(gateway, held)
        os.kill(holder, signal.SIGKILL)
        killed_at = time.monotonic()
        upstream.always["c1"] = Fault()
        with pytest.raises(httpx.HTTPError):
            async for _ in held.aiter_bytes():
                pass
    assert (await ask(gateway, routing.api_key)).status_code == 429, "the lease outlives its holder"
    while (await ask(gateway, routing.api_key)).status_code != 200:
        assert time.monotonic() - killed_at < LEASE_TTL + 5, "the slot leaked past its lease"
        await asyncio.sleep(0.5)
    print(f"slot back {time.monotonic() - killed_at:.1f} s after the kill")  # noqa: T201


def _serving(gateway: Instance, response: httpx.Response) -> int:
    """The worker pid whose socket serves `response`'s connection (read from /proc)."""
    stream = response.extensions["network_stream"]
    client_port = stream.get_extra_info("client_addr")[1]
    server_port = int(gateway.url.rsplit(":", 1)[1])
    inode = _server_side_inode(server_port, client_port)
    workers = Path(f"/proc/{gateway.popen.pid}/task/{gateway.popen.pid}/children")
    for pid in (int(p) for p in workers.read_text().split()):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            if os.readlink(fd) == f"socket:[{inode}]":
                return pid
    raise AssertionError("no worker holds the connection")


def _server_side_inode(server_port: int, client_port: int) -> str:
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == (
            client_port
        ):
            return fields[9]
    raise AssertionError("the connection is not in /proc/net/tcp")
