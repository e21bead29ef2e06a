"""The log list stays fast at a million rows (SQLite): the indexes serve every filter + time order.

Speed is checked where it cannot flake: SQLite's own query plan must use an index for every
statement the list runs (a plain `SCAN request_logs` reads all million rows). The clock only
catches a gross regression, with a margin a busy machine cannot eat."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from octopus.store import logs
from octopus.store.engine import make_engine, session_factory
from octopus.store.migrate import upgrade

ROWS = 1_000_000
START = 1_700_000_000
pytestmark = pytest.mark.slow

# one INSERT … SELECT over a recursive counter: a million rows without a million round trips
FILL = text(
    """
    INSERT INTO request_logs (
        request_id, time, api_key_id, api_key_name, model, group_id, channel_id, channel_name,
        upstream_model, client_format, upstream_format, stream, status, http_status, attempts,
        total_attempts, first_token_ms, duration_ms, input_tokens, cache_read_tokens,
        cache_write_tokens, output_tokens, reasoning_tokens, estimated, input_cost, output_cost,
        losses, error)
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)
    SELECT 'req-' || i, :start + i * 2, i % 50, 'key', 'group-' || (i % 20), i % 20, i % 30,
        'channel', 'model', 'openai', 'openai', i % 2,
        CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'success' END, 200, '[]', 1, 80, 900,
        1000, 0, 0, 200, 0, 0, 0.001, 0.002, '[]', ''
    FROM n
    """
)


async def test_filtered_pages_stay_fast_at_a_million_rows(tmp_path: Path) -> None:
    engine = make_engine(URL.create("sqlite+aiosqlite", database=str(tmp_path / "big.db")))
    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.execute(FILL, {"rows": ROWS, "start": START})
        sessions = session_factory(engine)
        statements: list[tuple[str, object]] = []

        def note(_c: object, _cur: object, sql: str, params: object, *_: object) -> None:
            statements.append((sql, params))

        event.listen(engine.sync_engine, "before_cursor_execute", note)
        end = START + ROWS * 2
        queries = [
            logs.LogFilter(),
            logs.LogFilter(model="group-7"),
            logs.LogFilter(channel_id=11),
            logs.LogFilter(api_key_id=42),
            logs.LogFilter(status="failed"),
            logs.LogFilter(start_time=end - 86400 * 3, end_time=end - 86400),
            logs.LogFilter(model="group-3", start_time=START, end_time=START + 86400 * 5),
        ]
        for where in queries:
            for page in (1, 50):
                async with sessions() as session:
                    began = time.perf_counter()
                    result = await logs.list_logs(session, where, page, 50)
                    elapsed = time.perf_counter() - began
                assert len(result["items"]) == 50, where
                times = [item["time"] for item in result["items"]]
                assert times == sorted(times, reverse=True)
                assert elapsed < 5.0, f"{where} page {page}: {elapsed:.3f}s"
        event.remove(engine.sync_engine, "before_cursor_execute", note)
        await _assert_indexed(engine, statements)
        async with sessions() as session:
            assert (await logs.list_logs(session, logs.LogFilter(), 1, 1))["total"] == ROWS
    finally:
        await engine.dispose()


async def _assert_indexed(engine: AsyncEngine, statements: list[tuple[str, object]]) -> None:
    """No statement the log list ran reads request_logs without an index."""
    assert statements
    async with engine.connect() as conn:
        for sql, params in statements:
            plan = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)  # type: ignore[arg-type]
            steps = [str(row[-1]) for row in plan]
            full = [s for s in steps if s.startswith("SCAN request_logs") and "USING" not in s]
            assert not full, f"{sql}\n{steps}"
