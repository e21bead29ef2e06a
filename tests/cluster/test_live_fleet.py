"""The live log, running rounds and stop-round reach every instance through Redis, and fall
back to the asked process alone (said in `X-Octopus-Scope`) when its Redis is away."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cluster.conftest import cluster_env
from tests.cluster.fleet import ASK, answers, make_channel, sdk
from tests.cluster.harness import DEAD_REDIS_URL, Cluster, Instance, login, wait_ready, within
from tests.fakes.upstream import FakeUpstream, Fault

pytestmark = pytest.mark.integration
SCOPE = "X-Octopus-Scope"
Records = asyncio.Queue[dict[str, Any]]


async def _failover(admin: httpx.AsyncClient, upstream: FakeUpstream) -> str:
    """Group `g`: channel `slow` first, `fast` second; returns an API key."""
    ids = [await make_channel(admin, upstream, tag) for tag in ("slow", "fast")]
    items = [{"channel_id": i, "model_name": "m", "priority": p} for p, i in enumerate(ids)]
    made = await admin.post(
        "/api/v1/group/create", json={"name": "g", "mode": "failover", "items": items}
    )
    made.raise_for_status()
    key = await admin.post("/api/v1/apikey/create", json={"name": "k"})
    return str(key.json()["data"]["api_key"])


@contextlib.asynccontextmanager
async def _live(admin: httpx.AsyncClient) -> AsyncIterator[tuple[httpx.Response, Records]]:
    """The live SSE view opened on `admin`'s instance, its `log` events parsed into a queue
    (the opening `scope` event first, as `{"scope_event": ...}`)."""
    records: Records = asyncio.Queue()
    async with admin.stream("GET", "/api/v1/log/overview/stream") as response:
        reader = asyncio.create_task(_read(response, records))
        try:
            yield response, records
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)


async def _read(response: httpx.Response, records: Records) -> None:
    event = None
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "log":
            await records.put(json.loads(line[6:]))
        elif line.startswith("data: ") and event == "scope":
            await records.put({"scope_event": json.loads(line[6:])})


async def _until(
    records: Records, request_id: str, done: bool, limit: float = 10.0
) -> dict[str, Any]:
    """The first record of `request_id` that is running (`done` False) or finished (True)."""
    async with asyncio.timeout(limit):
        while True:
            record = await records.get()
            if record.get("request_id") == request_id and (record["status"] != "running") == done:
                return record


async def _running(admin: httpx.AsyncClient) -> tuple[dict[str, int], str]:
    answer = await admin.get("/api/v1/log/running")
    assert answer.status_code == 200, answer.text
    return answer.json()["data"], answer.headers[SCOPE]


async def _stream(instance: Instance, api_key: str) -> str:
    async with sdk(instance, api_key) as client:
        stream = await client.chat.completions.create(**ASK, stream=True)  # type: ignore[call-overload]
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])


async def test_a_round_running_on_b_is_seen_and_stopped_from_a(
    tmp_path: Path, pg_dsn: str, prefix: str, upstream: FakeUpstream
) -> None:
    cluster = Cluster(tmp_path, cluster_env(pg_dsn, prefix))
    try:
        a, b = cluster.launch("a"), cluster.launch("b")
        await asyncio.gather(wait_ready(a), wait_ready(b))
        async with login(a) as admin:
            api_key = await _failover(admin, upstream)
            await within(lambda: _answered(b, api_key), 10.0, "b follows the new group")
            async with _live(admin) as (response, records):
                assert response.headers[SCOPE] == "fleet"
                opening = await asyncio.wait_for(records.get(), 5)
                assert opening == {"scope_event": {"scope": "fleet", "shared": True}}
                upstream.script("slow", Fault(delay=30))
                upstream.script("fast", Fault(gap=0.2))  # the finish comes a while after the stop
                pending = asyncio.create_task(_stream(b, api_key))
                running: dict[str, int] = {}

                async def seen_on_a() -> bool:
                    nonlocal running
                    running, scope = await _running(admin)
                    assert scope == "fleet"
                    return bool(running)

                await within(seen_on_a, 10.0, "b's round listed by a's log/running")
                ((request_id, number),) = running.items()
                assert number == 1
                started = await _until(records, request_id, done=False)
                assert started["model"] == "g"
                async with _live(admin) as (_, fresh):  # a stream opened now: b's snapshot
                    await _until(fresh, request_id, done=False, limit=3.0)
                wrong = await admin.post(f"/api/v1/log/{request_id}/2/stop", json={})
                assert wrong.status_code == 404
                assert wrong.json()["code"] == 404
                stopped = await admin.post(f"/api/v1/log/{request_id}/1/stop", json={})
                assert stopped.status_code == 204, stopped.text
                assert await asyncio.wait_for(pending, 15) == "hello from fast"
                finished = await _until(records, request_id, done=True)
                assert finished["status"] == "success"
                assert [x["outcome"] for x in finished["attempts"]] == ["stopped", "success"]
        assert [c.tag for c in upstream.calls()][-2:] == ["slow", "fast"]
    finally:
        cluster.stop()


async def _answered(instance: Instance, api_key: str) -> bool:
    return await answers(instance, api_key) == 200


async def test_without_redis_the_admin_sees_its_own_process_and_says_so(
    tmp_path: Path, pg_dsn: str, prefix: str, upstream: FakeUpstream
) -> None:
    cluster = Cluster(tmp_path, cluster_env(pg_dsn, prefix) | {"OCTOPUS_REDIS_URL": DEAD_REDIS_URL})
    try:
        alone = await cluster.start("alone")
        async with login(alone) as admin:
            api_key = await _failover(admin, upstream)
            upstream.script("slow", Fault(delay=30))
            pending = asyncio.create_task(_stream(alone, api_key))

            async def listed() -> bool:
                running, scope = await _running(admin)
                assert scope == "local"
                return bool(running)

            await within(listed, 10.0, "the round listed without Redis")
            async with _live(admin) as (response, records):
                assert response.status_code == 200
                assert response.headers[SCOPE] == "local"
                opening = await asyncio.wait_for(records.get(), 5)
                assert opening == {"scope_event": {"scope": "local", "shared": True}}
            ((request_id, number),) = (await _running(admin))[0].items()
            missing = await admin.post(f"/api/v1/log/{request_id}/{number + 1}/stop", json={})
            assert (missing.status_code, missing.headers[SCOPE]) == (404, "local")
            stopped = await admin.post(f"/api/v1/log/{request_id}/{number}/stop", json={})
            assert stopped.status_code == 204
            assert await asyncio.wait_for(pending, 15) == "hello from fast"
        assert alone.log().count("live log and running rounds show this process only") == 1
    finally:
        cluster.stop()


async def test_every_worker_of_one_instance_lists_and_stops_the_round(
    tmp_path: Path, pg_dsn: str, prefix: str, upstream: FakeUpstream
) -> None:
    cluster = Cluster(tmp_path, cluster_env(pg_dsn, prefix))
    supervisor = cluster.launch("w", None, "--workers", "2")
    try:
        await wait_ready(supervisor)
        async with login(supervisor) as admin:
            api_key = await _failover(admin, upstream)
            await within(lambda: _every_answer(supervisor, api_key), 10.0, "both workers follow")
            upstream.script("slow", Fault(delay=30))
            pending = asyncio.create_task(_stream(supervisor, api_key))
            await within(lambda: _listed_by(admin), 10.0, "the round listed")
            pids: set[int] = set()
            for _ in range(40):  # a new connection each time: both workers answer
                async with supervisor.client(cookies=admin.cookies) as probe:
                    pids.add(int((await probe.get("/readyz")).json()["pid"]))
                    running, scope = await _running(probe)
                assert (len(running), scope) == (1, "fleet"), f"worker {pids}: {running}"
                if len(pids) == 2:
                    break
            assert len(pids) == 2, "the probes never reached the second worker"
            ((request_id, number),) = running.items()
            stopped = await admin.post(f"/api/v1/log/{request_id}/{number}/stop", json={})
            assert stopped.status_code == 204, stopped.text
            assert await asyncio.wait_for(pending, 15) == "hello from fast"
    finally:
        cluster.stop()


async def _every_answer(instance: Instance, api_key: str) -> bool:
    """Six requests on six connections: both workers know the group (pub/sub reached them)."""
    codes = [await answers(instance, api_key) for _ in range(6)]
    return codes == [200] * 6


async def _listed_by(admin: httpx.AsyncClient) -> bool:
    return bool((await _running(admin))[0])
