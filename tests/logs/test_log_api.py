"""/api/v1/log over real HTTP: list with filters, detail, bodies, clear, and the live SSE view."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from sqlalchemy import event

from octopus.services.live_log import LiveLog
from tests.admin.conftest import data, error
from tests.harness import Gateway
from tests.logs.factory import failover_record, record


async def _push(gateway: Gateway, records) -> None:
    sink = gateway.app.services.record_sink
    for item in records:
        sink.started(item)
        sink.finished(item)
    assert await gateway.app.services.log_writer.drain()


async def test_list_detail_bodies_and_clear(gateway_db: Gateway, admin_db: httpx.AsyncClient):
    gateway_db.app.services.live_settings.set("log_body_mode", "all")
    failover = failover_record(request_body=b'{"model":"smart"}', response_body=b'{"id":"x"}')
    others = [
        record(started_at=1_700_000_000.0 + i, status="failed" if i % 3 == 0 else "success")
        for i in range(9)
    ]
    await _push(gateway_db, [failover, *others])

    listed = data(await admin_db.get("/api/v1/log/list", params={"page": 1, "page_size": 4}))
    assert [i["request_id"] for i in listed][:1] == [failover.request_id]  # Go: a plain list
    assert listed[0]["request_model_name"] == listed[0]["model"]
    page = data(await admin_db.get("/api/v1/log/page", params={"page": 1, "page_size": 4}))
    assert page["total"] == 10
    assert page["page"] == 1
    assert page["page_size"] == 4
    assert len(page["items"]) == 4
    assert page["items"][0]["request_id"] == failover.request_id
    assert "request_body" not in page["items"][0]
    failed = data(await admin_db.get("/api/v1/log/page", params={"status": "failed"}))
    assert failed["total"] == 3
    assert {i["status"] for i in failed["items"]} == {"failed"}
    by_channel = data(await admin_db.get("/api/v1/log/page", params={"channel_id": 8}))
    assert [i["request_id"] for i in by_channel["items"]] == [failover.request_id]
    window = {"start_time": 1_700_000_003, "end_time": 1_700_000_005}
    assert data(await admin_db.get("/api/v1/log/page", params=window))["total"] == 3
    message = error(await admin_db.get("/api/v1/log/list", params={"page": "x"}), 400)
    assert "page" in message

    log_id = page["items"][0]["id"]
    detail = data(await admin_db.get(f"/api/v1/log/{log_id}"))
    assert [a["outcome"] for a in detail["attempts"]] == ["failed", "success"]
    assert data(await admin_db.get(f"/api/v1/log/{log_id}/request-body")) == '{"model":"smart"}'
    assert data(await admin_db.get(f"/api/v1/log/{log_id}/response-body")) == '{"id":"x"}'
    error(await admin_db.get("/api/v1/log/999999"), 404)

    cleared = await admin_db.delete("/api/v1/log/clear")
    assert cleared.status_code == 204
    assert data(await admin_db.get("/api/v1/log/page"))["total"] == 0


async def test_only_the_page_route_counts_rows(gateway: Gateway, admin: httpx.AsyncClient) -> None:
    """The Go-shaped list discards a total, so it runs no COUNT over the filtered logs."""
    await _push(gateway, [record(started_at=1_700_000_000.0 + i) for i in range(3)])
    engine = gateway.app.services.db.engine.sync_engine
    seen: list[str] = []

    def note(_c: object, _cur: object, sql: str, *_: object) -> None:
        seen.append(sql.lower())

    event.listen(engine, "before_cursor_execute", note)
    try:
        assert len(data(await admin.get("/api/v1/log/list", params={"page_size": 2}))) == 2
        listed = [sql for sql in seen if "request_logs" in sql]
        seen.clear()
        assert data(await admin.get("/api/v1/log/page", params={"page_size": 2}))["total"] == 3
        paged = [sql for sql in seen if "request_logs" in sql]
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert listed
    assert not any("count(" in sql for sql in listed), listed
    assert any("count(" in sql for sql in paged), paged


async def test_log_routes_need_an_admin_session(gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=gateway.url) as anonymous:
        error(await anonymous.get("/api/v1/log/list"), 401)
        error(await anonymous.get("/api/v1/log/overview/stream"), 401)
        error(await anonymous.delete("/api/v1/log/clear"), 401)


async def test_overview_stream_opens_with_its_scope(
    gateway: Gateway, admin: httpx.AsyncClient
) -> None:
    """One process without Redis: it answers for itself, and says it shares nothing."""
    async with admin.stream("GET", "/api/v1/log/overview/stream") as response:
        lines = response.aiter_lines()
        first = [await anext(lines), await anext(lines)]
    assert response.headers["x-octopus-scope"] == "local"
    assert first[0] == "event: scope"
    assert json.loads(first[1].removeprefix("data: ")) == {"scope": "local", "shared": False}


async def _events(response: httpx.Response, queue: asyncio.Queue[Any]) -> None:
    event = None
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "log":
            await queue.put(json.loads(line[6:]))
        elif line.startswith(":"):
            await queue.put(line)
    await queue.put(None)  # the stream ended


async def test_overview_stream_snapshot_live_updates_and_shutdown(
    gateway: Gateway, admin: httpx.AsyncClient
) -> None:
    state = gateway.app.services
    done = record(requested_model="before")
    await _push(gateway, [done])
    running = record(requested_model="still-running", status="running", duration_ms=0)
    state.record_sink.started(running)

    queue: asyncio.Queue[Any] = asyncio.Queue()
    async with admin.stream("GET", "/api/v1/log/overview/stream") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = asyncio.create_task(_events(response, queue))
        snapshot = [await asyncio.wait_for(queue.get(), 5) for _ in range(2)]
        assert {(s["request_id"], s["status"]) for s in snapshot} == {
            (done.request_id, "success"),
            (running.request_id, "running"),
        }
        running.status = "success"
        running.duration_ms = 42
        state.record_sink.finished(running)
        live = await asyncio.wait_for(queue.get(), 5)
        assert (live["request_id"], live["status"], live["duration_ms"]) == (
            running.request_id,
            "success",
            42,
        )
        assert live["attempts"][0]["outcome"] == "success"
        state.stopping.set()  # shutdown ends long-lived streams
        assert await asyncio.wait_for(queue.get(), 5) is None
        await reader


async def test_a_slow_subscriber_is_dropped() -> None:
    live = LiveLog(queue_size=3)
    slow = live.subscribe()
    fast = live.subscribe()
    for _ in range(4):
        item = record()
        live.started(item)
        while not fast.empty():
            fast.get_nowait()
    assert live.dropped_subscribers == 1
    assert live.subscribers == 1
    assert slow.get_nowait() is None, "the dropped subscriber is told to reconnect"
