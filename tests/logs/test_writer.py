"""BatchWriter on every engine: failover attempts, bodies, filters and pages, retention."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy.engine import URL

from octopus.live_settings import LiveSettings
from octopus.records.request import UsageRecord
from octopus.relay.sink import RecordSink
from octopus.store import logs, stats
from octopus.store.database import Database
from octopus.store.engine import make_engine, session_factory
from octopus.store.migrate import upgrade
from octopus.store.writer import BatchWriter, WriterConfig
from tests.logs.factory import failover_record, record

DAY = 86400


async def _write(database: Database, records, settings: LiveSettings | None = None) -> BatchWriter:
    writer = BatchWriter(database.sessions, body_settings=settings)
    sink: RecordSink = writer  # the relay's Protocol, checked by mypy
    for item in records:
        sink.started(item)
        sink.finished(item)
    assert await writer.drain()
    return writer


async def test_failover_record_keeps_every_attempt(database: Database) -> None:
    rec = failover_record(losses=["openai_chat→anthropic: dropped logprobs"])
    writer = await _write(database, [rec])
    assert (writer.written, writer.pending, writer.dropped) == (1, 0, 0)
    async with database.sessions() as session:
        page = await logs.list_logs(session, logs.LogFilter(), 1, 20)
        assert page["total"] == 1
        item = page["items"][0]
        assert "attempts" not in item
        assert "request_body" not in item
        assert item["total_attempts"] == 2
        detail = await logs.get_log(session, str(item["id"]))
        by_request_id = await logs.get_log(session, rec.request_id)
    assert detail is not None
    assert detail == by_request_id
    assert [(a["channel_id"], a["outcome"], a["status"]) for a in detail["attempts"]] == [
        (7, "failed", 503),
        (8, "success", 200),
    ]
    assert detail["attempts"][0]["error"] == "upstream 503: overloaded"
    assert detail["channel_id"] == 8
    assert detail["upstream_model"] == "gpt-4o-2024"
    assert detail["model"] == "smart"
    assert detail["api_key_name"] == "key-one"
    assert detail["losses"] == ["openai_chat→anthropic: dropped logprobs"]
    assert detail["first_token_ms"] == 80
    assert detail["duration_ms"] == 150
    assert (detail["input_tokens"], detail["cache_read_tokens"], detail["output_tokens"]) == (
        100,
        10,
        20,
    )
    assert abs(detail["cost"] - 0.003) < 1e-12
    assert detail["has_body"] is False


async def test_bodies_follow_the_mode_and_never_hold_secrets(database: Database) -> None:
    secret = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz"
    body = b'{"model":"smart","messages":[{"role":"user","content":"my key is ' + secret.encode()
    body += b'"}],"pad":"' + b"x" * 5000 + b'"}'
    ok = record(request_body=body, response_body=b'{"ok":true}')
    bad = record(status="failed", http_status=502, request_body=body, response_body=b"{}")
    settings = LiveSettings({"log_body_mode": "errors", "log_body_max_bytes": "1000"})
    await _write(database, [ok, bad], settings)
    async with database.sessions() as session:
        assert await logs.get_body(session, ok.request_id, "request") == ""
        stored = await logs.get_body(session, bad.request_id, "request")
        assert await logs.get_body(session, bad.request_id, "response") == "{}"
        assert await logs.get_body(session, "no-such-request", "request") is None
        detail = await logs.get_log(session, bad.request_id)
    assert stored is not None
    assert stored.startswith('{"model":"smart"')
    assert secret not in stored
    assert "sk-ant" not in stored
    assert stored.endswith("...[truncated]")
    assert len(stored) <= 1000 + len("...[truncated]")
    assert detail is not None
    assert detail["has_body"] is True

    settings.set("log_body_mode", "off")
    later = record(status="failed", request_body=b"{}", response_body=b"{}")
    await _write(database, [later], settings)
    async with database.sessions() as session:
        assert await logs.get_body(session, later.request_id, "request") == ""


async def test_filters_and_pages(database: Database) -> None:
    base = 1_750_000_000
    records = [
        record(
            started_at=float(base + i * 60),
            requested_model="smart" if i % 2 else "fast",
            channel_id=1 + i % 3,
            api_key_id=1 + i % 4,
            status="failed" if i % 5 == 0 else "success",
        )
        for i in range(60)
    ]
    await _write(database, records)

    async def query(page: int = 1, size: int = 100, **where: Any) -> dict[str, Any]:
        async with database.sessions() as session:
            return await logs.list_logs(session, logs.LogFilter(**where), page, size)

    everything = await query()
    assert everything["total"] == 60
    times = [item["time"] for item in everything["items"]]
    assert times == sorted(times, reverse=True), "newest first"

    def expect(pred) -> list[str]:
        chosen = [r for r in records if pred(r)]
        chosen.sort(key=lambda r: r.started_at, reverse=True)
        return [r.request_id for r in chosen]

    cases: list[tuple[dict[str, Any], Any]] = [
        ({"model": "smart"}, lambda r: r.requested_model == "smart"),
        ({"channel_id": 2}, lambda r: r.channel_id == 2),
        ({"api_key_id": 3}, lambda r: r.api_key_id == 3),
        ({"status": "failed"}, lambda r: r.status == "failed"),
        (
            {"start_time": base + 600, "end_time": base + 1200},
            lambda r: 600 <= r.started_at - base <= 1200,
        ),
        (
            {"model": "fast", "channel_id": 1},
            lambda r: r.requested_model == "fast" and r.channel_id == 1,
        ),
    ]
    for where, pred in cases:
        got = await query(**where)
        assert [i["request_id"] for i in got["items"]] == expect(pred), where
        assert got["total"] == len(expect(pred))

    pages = [await query(page=p, size=25) for p in (1, 2, 3)]
    assert [len(p["items"]) for p in pages] == [25, 25, 10]
    assert [i["request_id"] for p in pages for i in p["items"]] == expect(lambda r: True)
    assert pages[1]["page"] == 2
    assert pages[1]["page_size"] == 25


async def test_retention_deletes_in_batches(database: Database) -> None:
    now = 1_760_000_000
    old = [record(started_at=float(now - 40 * DAY + i), request_body=b"{}") for i in range(23)]
    middle = [record(started_at=float(now - 10 * DAY + i), request_body=b"{}") for i in range(5)]
    fresh = [record(started_at=float(now - 3600 + i), request_body=b"{}") for i in range(4)]
    await _write(database, [*old, *middle, *fresh], LiveSettings({"log_body_mode": "all"}))

    deleted = await logs.purge_expired(database.sessions, now, 30, 7, batch=5)
    assert deleted == (23, 28)  # old logs, then every body older than 7 days (old and middle)
    async with database.sessions() as session:
        page = await logs.list_logs(session, logs.LogFilter(), 1, 100)
        left = {i["request_id"] for i in page["items"]}
        assert left == {r.request_id for r in [*middle, *fresh]}
        assert await logs.get_body(session, middle[0].request_id, "request") == ""
        assert await logs.get_body(session, fresh[0].request_id, "request") == "{}"
    assert await logs.purge_expired(database.sessions, now, 30, 7) == (0, 0)
    assert await logs.purge_expired(database.sessions, now, 0, 0) == (0, 0), "0 keeps forever"


async def test_clear_removes_logs_and_bodies(database: Database) -> None:
    await _write(database, [record(request_body=b"{}")], LiveSettings({"log_body_mode": "all"}))
    async with database.sessions() as session:
        await logs.clear_logs(session)
        assert (await logs.list_logs(session, logs.LogFilter(), 1, 10))["total"] == 0


async def test_batches_are_bounded_and_counted(database: Database) -> None:
    writer = BatchWriter(database.sessions, WriterConfig(batch_size=7, max_batch=7))
    for _ in range(30):
        writer.finished(record())
    assert writer.pending == 30
    assert await writer.drain()
    assert (writer.written, writer.pending, writer.dropped) == (30, 0, 0)
    async with database.sessions() as session:
        assert (await logs.list_logs(session, logs.LogFilter(), 1, 1))["total"] == 30


async def test_pending_bodies_are_bounded(database: Database) -> None:
    settings = LiveSettings({"log_body_mode": "all"})
    config = WriterConfig(max_pending_body_bytes=10_000)
    writer = BatchWriter(database.sessions, config, settings)
    records = [record(request_body=b"x" * 4000) for _ in range(5)]
    for item in records:
        writer.finished(item)
    assert writer.bodies_dropped == 3
    assert [r.request_body is not None for r in records] == [True, True, False, False, False]
    assert await writer.drain()
    async with database.sessions() as session:
        kept = [await logs.get_body(session, r.request_id, "request") for r in records]
    assert kept == ["x" * 4000, "x" * 4000, "", "", ""]
    writer.finished(record(request_body=b"y" * 4000))  # memory is given back once written
    assert writer.bodies_dropped == 3


async def test_a_record_the_database_refuses_does_not_block_the_rest(database: Database) -> None:
    poison = record(usage=UsageRecord(input=2**70))  # beyond BIGINT on every engine
    good = [record(), record()]
    writer = BatchWriter(database.sessions)
    for item in (good[0], poison, good[1]):
        writer.finished(item)
    assert await writer.drain()
    assert (writer.written, writer.dropped, writer.pending) == (2, 1, 0)
    async with database.sessions() as session:
        page = await logs.list_logs(session, logs.LogFilter(), 1, 10)
        total = await stats.total(session)
    assert {i["request_id"] for i in page["items"]} == {r.request_id for r in good}
    assert total["request_success"] == 2, "the refused record's stats were rolled back with it"


async def test_a_batch_of_many_rows_keeps_every_column(database: Database) -> None:
    """Over a hundred rows: on SQLite one multi-row statement, values flattened in C; every
    row's columns (the attempts as JSON) land in their own place."""
    records = [failover_record() for _ in range(130)]
    for i, rec in enumerate(records):
        rec.request_id = f"many-{i:03d}"
        rec.attempts[0].status = 500 + i
    await _write(database, records)
    async with database.sessions() as session:
        details = [await logs.get_log(session, f"many-{i:03d}") for i in (0, 57, 99, 100, 129)]
    for i, detail in zip((0, 57, 99, 100, 129), details, strict=True):
        assert detail is not None
        assert detail["request_id"] == f"many-{i:03d}"
        assert [a["status"] for a in detail["attempts"]] == [500 + i, 200]
        assert (detail["channel_id"], detail["model"], detail["total_attempts"]) == (8, "smart", 2)


async def test_a_locked_sqlite_database_keeps_the_records_for_later(tmp_path: Path) -> None:
    """Another process holds the write lock past busy_timeout: the batch waits, nothing is lost."""
    engine = make_engine(URL.create("sqlite+aiosqlite", database=str(tmp_path / "locked.db")))
    await upgrade(engine)
    writer = BatchWriter(session_factory(engine))
    holder = sqlite3.connect(tmp_path / "locked.db")
    try:
        holder.execute("BEGIN IMMEDIATE")
        for _ in range(150):
            writer.finished(record())
        assert not await writer.drain(), "'database is locked' is the database away, for now"
        assert (writer.written, writer.dropped, writer.pending) == (0, 0, 150)
        holder.rollback()
        assert await writer.drain()
        assert (writer.written, writer.dropped, writer.pending) == (150, 0, 0)
    finally:
        holder.close()
        await engine.dispose()


async def test_a_sqlite_batch_is_one_job_of_the_driver_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every await on the driver's thread waits behind the requests in flight: a batch of 1,000
    rows (ten statements) must not cost an await per statement."""
    engine = make_engine(URL.create("sqlite+aiosqlite", database=str(tmp_path / "jobs.db")))
    await upgrade(engine)
    writer = BatchWriter(session_factory(engine))
    writer.finished(record())
    assert await writer.drain()  # the pool's connection made, the statement cache warm
    jobs = 0
    run: Any = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal jobs
        jobs += 1
        return await run(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    for _ in range(1000):
        writer.finished(record())
    assert await writer.drain()
    await engine.dispose()
    print(f"{jobs} driver jobs for 1,000 records")  # noqa: T201
    assert writer.written == 1001
    assert jobs <= 12


async def test_an_idle_writer_sleeps_until_a_record_comes(database: Database) -> None:
    """No timer while the queue is empty (an idle gateway wakes for nothing); a record that
    comes is still written within `interval`."""
    writer = BatchWriter(database.sessions, WriterConfig(interval=0.02))
    drains = 0
    drain = writer.drain

    async def counted() -> bool:
        nonlocal drains
        drains += 1
        return await drain()

    writer.drain = counted  # type: ignore[method-assign]
    writer.start()
    await asyncio.sleep(0.3)  # 15 intervals: the old loop drained an empty queue 15 times
    assert drains == 0
    writer.finished(record())
    for _ in range(200):
        if writer.written:
            break
        await asyncio.sleep(0.02)
    assert (writer.written, drains) == (1, 1)
    await writer.flush()
