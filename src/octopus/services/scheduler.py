"""One small scheduler for the periodic background jobs (price refresh, model sync, retention).

Each job runs at start-up (unless paused), then every `every()` seconds, read live before each
wait; a change of one of its `settings` restarts the wait. Before each run the job
asks a `JobLease`: with one instance every run is granted; a shared lease can later make a job
run on one instance of many.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from octopus.core.clock import Clock

log = logging.getLogger("octopus.scheduler")


class JobLease(Protocol):
    async def acquire(self, job: str, ttl: float) -> bool:
        """True when this instance runs `job` now; the grant lasts `ttl` seconds."""
        ...


class Observable(Protocol):
    """Live settings a job's interval is read from (LiveSettings satisfies it)."""

    def subscribe(
        self, listener: Callable[[str, str], None], keys: frozenset[str] | None = None
    ) -> Callable[[], None]: ...


class LocalLease:
    """A single instance: every run is granted."""

    async def acquire(self, job: str, ttl: float) -> bool:
        return True


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], Awaitable[object]]  # reports its own failures; others are logged here
    every: Callable[[], float]  # seconds between runs, read live; 0 or less pauses the job
    settings: frozenset[str] = frozenset()  # live settings `every` depends on


@dataclass
class _Entry:
    job: Job
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    unsubscribe: Callable[[], None] = lambda: None


class Scheduler:
    def __init__(
        self,
        clock: Clock,
        stopping: asyncio.Event,
        settings: Observable | None = None,
        lease: JobLease | None = None,
    ) -> None:
        self._clock = clock
        self._stopping = stopping
        self._settings = settings
        self._lease = lease or LocalLease()
        self._entries: dict[str, _Entry] = {}

    def start(self, job: Job) -> None:
        entry = self._entries[job.name] = _Entry(job)
        if job.settings and self._settings is not None:
            wake = entry.wake.set
            entry.unsubscribe = self._settings.subscribe(lambda _k, _v: wake(), job.settings)
        entry.task = asyncio.get_running_loop().create_task(self._loop(entry), name=job.name)

    def reschedule(self, name: str) -> None:
        """The job's interval changed: its next run is one (new) interval from now."""
        self._entries[name].wake.set()

    async def stop(self) -> None:
        for entry in self._entries.values():
            entry.unsubscribe()
        tasks = [e.task for e in self._entries.values() if e.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self, entry: _Entry) -> None:
        job, due = entry.job, self._clock.monotonic()  # the first run is at start-up
        while not self._stopping.is_set():
            every = job.every()
            entry.wake.clear()
            wait = due - self._clock.monotonic() if every > 0 else math.inf
            if wait > 0:
                if await self._woken(entry.wake, wait):
                    due = self._clock.monotonic() + max(job.every(), 0.0)
                continue
            await self._run(job, every)
            due = self._clock.monotonic() + every

    async def _woken(self, wake: asyncio.Event, seconds: float) -> bool:
        """Sleep `seconds` (or until shutdown); True when `reschedule` woke the job."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(None if math.isinf(seconds) else seconds):
                await _first(self._stopping, wake)
        return wake.is_set()

    async def _run(self, job: Job, every: float) -> None:
        try:
            if await self._lease.acquire(job.name, every):
                await job.run()
        except Exception:
            log.exception("background job failed", extra={"fields": {"job": job.name}})


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
