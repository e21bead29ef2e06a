"""Request log rows: batch insert, the filtered list, one log with its bodies, clear, retention."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import JSON, ColumnElement, Select, Table, delete, func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from octopus.core.clock import Clock
from octopus.core.zone import day_start
from octopus.store.records import log_item, with_go_names
from octopus.store.tables import RequestLog, RequestLogBody

log = logging.getLogger("octopus.store.logs")
DAY = 86400
PURGE_BATCH = 5000
STATUSES = ("running", "success", "failed", "canceled")
# the list leaves out the attempts JSON; the detail view has it
_LIST_COLUMNS = [c for c in RequestLog.__table__.columns if c.name != "attempts"]

LOG_TABLE: Table = RequestLog.__table__  # type: ignore[assignment]
BODY_TABLE: Table = RequestLogBody.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class LogFilter:
    start_time: int | None = None  # unix seconds, inclusive
    end_time: int | None = None  # unix seconds, inclusive
    model: str | None = None
    channel_id: int | None = None
    api_key_id: int | None = None
    status: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.start_time is not None:
            found.append(RequestLog.time >= self.start_time)
        if self.end_time is not None:
            found.append(RequestLog.time <= self.end_time)
        if self.model:
            found.append(RequestLog.model == self.model)
        if self.channel_id is not None:
            found.append(RequestLog.channel_id == self.channel_id)
        if self.api_key_id is not None:
            found.append(RequestLog.api_key_id == self.api_key_id)
        if self.status:
            found.append(RequestLog.status == self.status)
        return found


@dataclass(frozen=True, slots=True)
class BodyRow:
    request_id: str
    time: int
    request_body: str | None
    response_body: str | None


async def insert_logs(
    session: AsyncSession, rows: Sequence[dict[str, Any]], bodies: Sequence[BodyRow]
) -> None:
    """Insert in the caller's transaction (executemany, one statement per table)."""
    if rows:
        connection = await session.connection()
        if connection.dialect.name == "sqlite":
            await _sqlite_insert(connection, LOG_TABLE, rows)
        else:
            # the table, not the ORM class: Core executemany skips the ORM's per-row bookkeeping
            await session.execute(insert(LOG_TABLE), list(rows))
    if bodies:
        values = [
            {
                "request_id": b.request_id,
                "time": b.time,
                "request_body": b.request_body,
                "response_body": b.response_body,
            }
            for b in bodies
        ]
        await session.execute(insert(BODY_TABLE), values)


SQLITE_ROWS_PER_STATEMENT = 100  # one fixed statement shape: SQLite caches its compiled form
Statement = tuple[str, Sequence[Any]]


async def _sqlite_insert(
    connection: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    """Multi-row VALUES statements (one SQLite step per 100 rows), all run in one job of the
    driver's thread.

    executemany steps SQLite once per row, releasing and retaking the GIL each time while the
    relay wants it. A statement per await costs several hops between the event loop and the
    driver's thread, each waiting its turn behind every request in flight: under saturating
    load the writer fell to ~1,500 rows/s and the queue filled. The statement always has the
    same number of rows (the remainder goes row by row), so the driver's statement cache holds
    two compiled statements (~330 KB for the 100-row one) rather than one per batch size.
    """
    statements = _sqlite_statements(connection, table, rows)
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection  # aiosqlite's: `_execute` runs a function in its thread
    try:
        await driver._execute(_run_all, driver._conn, statements)
    except sqlite3.Error as exc:  # as SQLAlchemy would raise it: "database is locked" is transient
        raise DBAPIError.instance(statements[0][0][:200], None, exc, sqlite3.Error) from exc


def _run_all(sqlite: Any, statements: list[Statement]) -> None:
    """In the driver's thread, inside the transaction the session began on this connection."""
    for sql, params in statements:
        if params and isinstance(params[0], tuple):
            sqlite.executemany(sql, params)
        else:
            sqlite.execute(sql, params)


def _sqlite_statements(
    connection: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]
) -> list[Statement]:
    names = list(rows[0])
    quote = connection.dialect.identifier_preparer.quote
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    # identifiers come from our own table definition; every value is a bound parameter
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES "  # noqa: S608
    one_row = "(" + ", ".join("?" for _ in names) + ")"

    pick = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
    as_json = [i for i, n in enumerate(names) if n in json_columns]

    def values(row: dict[str, Any]) -> tuple[Any, ...]:
        picked = pick(row)  # the row's values in column order, in one C call
        if not as_json:
            return picked
        found = list(picked)
        for i in as_json:
            found[i] = _json_text(found[i])
        return tuple(found)

    size = SQLITE_ROWS_PER_STATEMENT
    full = len(rows) - len(rows) % size
    many = head + ", ".join(one_row for _ in range(size))
    statements: list[Statement] = [
        (many, tuple(chain.from_iterable(map(values, rows[start : start + size]))))
        for start in range(0, full, size)
    ]  # flattened in C: no Python step per value (28 per row)
    if full < len(rows):
        statements.append((head + one_row, list(map(values, rows[full:]))))
    return statements


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


async def list_logs(
    session: AsyncSession, where: LogFilter, page: int, page_size: int, *, with_total: bool = True
) -> dict[str, Any]:
    """`{items, total, page, page_size}`, newest first; items carry no bodies or attempts.
    `with_total=False` skips the COUNT (a full scan of the filter) and leaves `total` out."""
    conditions = where.conditions()
    total = None
    if with_total:  # counted first: a log written between the two reads shows, never goes missing
        count = select(func.count()).select_from(RequestLog).where(*conditions)
        total = int(await session.scalar(count) or 0)
    query: Select[Any] = (
        select(*_LIST_COLUMNS)
        .where(*conditions)
        .order_by(RequestLog.time.desc(), RequestLog.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    items = [
        with_go_names(log_item(dict(row))) for row in (await session.execute(query)).mappings()
    ]
    found: dict[str, Any] = {"items": items, "page": page, "page_size": page_size}
    if total is not None:
        found["total"] = total
    return found


async def get_log(session: AsyncSession, ident: str) -> dict[str, Any] | None:
    """One log with its attempts, by database id or request id."""
    column = RequestLog.id if ident.isdigit() else RequestLog.request_id
    value: int | str = int(ident) if ident.isdigit() else ident
    query = select(RequestLog.__table__).where(column == value).limit(1)
    row = (await session.execute(query)).mappings().first()
    if row is None:
        return None
    item = with_go_names(log_item(dict(row)))
    item["has_body"] = await _body_of(session, item["request_id"]) is not None
    return item


async def get_body(session: AsyncSession, ident: str, which: str) -> str | None:
    """The stored request or response body ("" when none was kept); None when no such log."""
    item_query = select(RequestLog.request_id)
    if ident.isdigit():
        item_query = item_query.where(RequestLog.id == int(ident))
    else:
        item_query = item_query.where(RequestLog.request_id == ident)
    request_id = await session.scalar(item_query.limit(1))
    if request_id is None:
        return None
    body = await _body_of(session, request_id)
    if body is None:
        return ""
    text = body.request_body if which == "request" else body.response_body
    return text or ""


async def _body_of(session: AsyncSession, request_id: str) -> RequestLogBody | None:
    query = select(RequestLogBody).where(RequestLogBody.request_id == request_id).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def clear_logs(session: AsyncSession) -> None:
    """Delete every log and body (statistics are kept)."""
    await session.execute(delete(RequestLogBody))
    await session.execute(delete(RequestLog))
    await session.commit()


async def purge_expired(
    sessions: async_sessionmaker[AsyncSession],
    now: float,
    log_days: int,
    body_days: int,
    batch: int = PURGE_BATCH,
    zone: ZoneInfo | None = None,
) -> tuple[int, int]:
    """Delete logs and bodies past retention in short transactions; (logs, bodies) deleted.

    With a `zone`, N days end at that zone's midnight (rows from the start of the day N days
    ago stay); without one, exactly N×24 hours."""

    def cutoff(days: int) -> int:
        exact = int(now) - days * DAY
        return exact if zone is None else day_start(exact, zone)

    logs = bodies = 0
    if log_days > 0:
        logs = await _purge(sessions, RequestLog, cutoff(log_days), batch)
        body_days = min(body_days, log_days) if body_days > 0 else log_days
    if body_days > 0:
        bodies = await _purge(sessions, RequestLogBody, cutoff(body_days), batch)
    return logs, bodies


async def _purge(
    sessions: async_sessionmaker[AsyncSession],
    table: type[RequestLog] | type[RequestLogBody],
    cutoff: int,
    batch: int,
) -> int:
    deleted = 0
    while True:
        async with sessions() as session, session.begin():
            # ids first: MySQL refuses LIMIT inside an IN subquery
            query = select(table.id).where(table.time < cutoff).order_by(table.id).limit(batch)
            ids = list((await session.scalars(query)).all())
            if ids:
                await session.execute(delete(table).where(table.id.in_(ids)))
        deleted += len(ids)
        if len(ids) < batch:
            return deleted
        await asyncio.sleep(0)  # let requests in between batches


class RetentionSettings(Protocol):
    @property
    def log_retention_days(self) -> int: ...
    @property
    def log_body_retention_days(self) -> int: ...


async def purge_quietly(
    sessions: async_sessionmaker[AsyncSession],
    settings: RetentionSettings,
    clock: Clock,
    zone: ZoneInfo | None = None,
) -> None:
    """Purge expired logs once (a periodic job); a failure is logged and retried next time."""
    try:
        deleted = await purge_expired(
            sessions,
            clock.time(),
            settings.log_retention_days,
            settings.log_body_retention_days,
            zone=zone,
        )
        if any(deleted):
            log.info(
                "expired logs deleted",
                extra={"fields": {"logs": deleted[0], "bodies": deleted[1]}},
            )
    except Exception as exc:
        log.warning(
            "log retention failed; will retry", extra={"fields": {"error": type(exc).__name__}}
        )
