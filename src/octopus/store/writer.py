"""BatchWriter: the relay's record sink that persists logs and statistics without blocking.

`finished(record)` only appends to a bounded in-memory queue (and lets go of bodies that will
not be stored: the relay is done with the record by then). A background task writes the queue at
least every `interval` seconds (sooner once `batch_size` records wait), each batch in
ONE transaction with its stats_hourly increments, so logs and statistics always agree and a
hard kill loses at most the last interval. While the database is unreachable records wait up
to `max_pending`; later ones are dropped and counted (`dropped`), never blocking the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from octopus.core.logs import scrub
from octopus.records.bodies import BodyPolicy, BodySettings
from octopus.records.request import RequestRecord
from octopus.store import logs, stats
from octopus.store.records import body_text, keeps_bodies, log_row, stats_deltas

log = logging.getLogger("octopus.store.writer")
MiB = 1024 * 1024
WARN_EVERY = 10.0  # seconds between repeated warnings about the same trouble


@dataclass(frozen=True, slots=True)
class WriterConfig:
    interval: float = 0.5  # seconds between writes: a hard kill loses less than one second
    batch_size: int = 500  # records waiting that wake the writer before `interval`
    max_batch: int = 5_000  # records per transaction: a backlog is caught up in few round trips
    max_pending: int = 20_000  # records held while the database is down
    max_pending_body_bytes: int = 64 * MiB  # beyond this, new records keep no bodies
    max_backoff: float = 5.0
    flush_attempts: int = 3  # tries at shutdown before what is left is given up


@dataclass(slots=True)
class _Pending:
    record: RequestRecord
    body_bytes: int  # 0 when the bodies are not kept


class BatchWriter:
    """Implements the relay's RecordSink (structurally) and a shutdown flusher (`flush`)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        config: WriterConfig | None = None,
        body_settings: BodySettings | None = None,
    ) -> None:
        self._sessions = sessions
        self.config = config or WriterConfig()
        self.body_settings: BodySettings = body_settings or BodyPolicy()
        self._queue: deque[_Pending] = deque()
        self._body_bytes = 0
        self._wake = asyncio.Event()
        self._arrived = asyncio.Event()  # the queue was empty and a record came: an idle writer
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._warned_at: dict[str, float] = {}
        self.written = 0  # records persisted
        self.dropped = 0  # records lost: queue full, rejected by the database, or unwritten at exit
        self.bodies_dropped = 0  # records whose bodies were not kept to bound memory
        self.write_errors = 0  # failed batch transactions (each retried later)

    @property
    def pending(self) -> int:
        return len(self._queue)

    def started(self, record: RequestRecord) -> None:
        """Nothing to persist yet: a request is written once, when it finishes."""

    def finished(self, record: RequestRecord) -> None:
        if len(self._queue) >= self.config.max_pending:
            self.dropped += 1
            self._warn("queue_full", "log queue full: dropping records", self.dropped)
            return
        size = 0
        if keeps_bodies(record, self.body_settings.log_body_mode):
            size = len(record.request_body or b"") + len(record.response_body or b"")
            if self._body_bytes + size > self.config.max_pending_body_bytes:
                self.bodies_dropped += 1
                size = 0
        if not size:  # bounded memory: hold no bodies that will not be stored
            record.request_body = record.response_body = None
        self._body_bytes += size
        self._queue.append(_Pending(record, size))
        if len(self._queue) == 1:
            self._arrived.set()
        if len(self._queue) >= self.config.batch_size:
            self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="log-writer")

    async def flush(self) -> None:
        """Stop the loop and write everything still queued (graceful shutdown)."""
        self._stop.set()
        self._wake.set()
        self._arrived.set()
        if self._task is not None:
            await self._task
            self._task = None
        for attempt in range(self.config.flush_attempts):
            if await self.drain():
                return
            await asyncio.sleep(min(self.config.max_backoff, 0.5 * 2**attempt))
        lost = len(self._queue)
        self._queue.clear()
        self._body_bytes = 0
        self.dropped += lost
        log.error("log records lost at shutdown", extra={"fields": {"records": lost}})

    async def _run(self) -> None:
        backoff = self.config.interval
        while not self._stop.is_set():
            if not self._queue:  # idle: no timer until a record comes (then `interval` to batch)
                await self._arrived.wait()
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                ok = await self.drain()
            except Exception:  # never let the writer task die: nothing would be written again
                log.exception("log writer failed; will retry")
                ok = False
            backoff = self.config.interval if ok else min(backoff * 2, self.config.max_backoff)

    async def drain(self) -> bool:
        """Write every queued record in batches; False when the database is unavailable."""
        async with self._lock:  # one writer at a time, or a batch could be written twice
            return await self._drain()

    async def _drain(self) -> bool:
        while self._queue:
            batch = [self._queue[i] for i in range(min(len(self._queue), self.config.max_batch))]
            try:
                await self._write(batch)
            except Exception as exc:
                self._failed(exc)
                if _transient(exc) or not await self._write_singly(batch):
                    return False
                continue
            self._forget(len(batch))
            self.written += len(batch)
        return True

    async def _write(self, batch: list[_Pending]) -> None:
        settings = self.body_settings
        mode, limit = settings.log_body_mode, settings.log_body_max_bytes
        records = [p.record for p in batch]
        rows = [log_row(r) for r in records]
        bodies = [
            logs.BodyRow(
                row["request_id"],
                row["time"],
                body_text(p.record.request_body, limit),
                body_text(p.record.response_body, limit),
            )
            for p, row in zip(batch, rows, strict=True)
            if p.body_bytes and keeps_bodies(p.record, mode)
        ]
        async with self._sessions() as session, session.begin():
            await logs.insert_logs(session, rows, bodies)
            await stats.add_hourly(session, stats_deltas(records))

    async def _write_singly(self, batch: list[_Pending]) -> bool:
        """A batch the database refused: keep every record it accepts, drop and count the rest."""
        for pending in batch:
            try:
                await self._write([pending])
                self.written += 1
            except Exception as exc:
                if _transient(exc):
                    return False
                self.dropped += 1
                fields = {"request_id": pending.record.request_id, "error": _why(exc)}
                log.error("log record refused by the database", extra={"fields": fields})
            self._forget(1)
        return True

    def _forget(self, count: int) -> None:
        for _ in range(count):
            self._body_bytes -= self._queue.popleft().body_bytes

    def _failed(self, exc: BaseException) -> None:
        self.write_errors += 1
        self._warn("write_failed", "log batch not written; will retry", self.pending, _why(exc))

    def _warn(self, what: str, message: str, count: int, error: str = "") -> None:
        now = time.monotonic()
        if now - self._warned_at.get(what, -WARN_EVERY) < WARN_EVERY:
            return
        self._warned_at[what] = now
        fields: dict[str, object] = {"pending": self.pending, "dropped": self.dropped}
        if error:
            fields["error"] = error
        log.warning(message, extra={"fields": fields | {"count": count}})


def _transient(exc: BaseException) -> bool:
    """The database is unavailable (retry the same records later), not refusing these records."""
    if isinstance(exc, OperationalError | InterfaceError | OSError | TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _why(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    text = str(original).splitlines()[0] if str(original) else type(original).__name__
    return scrub(text[:300])
