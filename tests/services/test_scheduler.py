"""The periodic-job scheduler: start-up run, pause, live reschedule, failures, the lease."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from octopus.core.clock import SystemClock
from octopus.live_settings import LiveSettings
from octopus.services.scheduler import Job, Scheduler


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


class Counter:
    def __init__(self, fail: bool = False) -> None:
        self.runs = 0
        self.fail = fail

    async def __call__(self) -> None:
        self.runs += 1
        if self.fail:
            raise RuntimeError("boom")


class Refusing:
    def __init__(self) -> None:
        self.asked: list[tuple[str, float]] = []

    async def acquire(self, job: str, ttl: float) -> bool:
        self.asked.append((job, ttl))
        return False


async def test_a_job_runs_at_start_up_and_then_every_interval() -> None:
    count = Counter()
    scheduler = Scheduler(SystemClock(), asyncio.Event())
    scheduler.start(Job("tick", count, lambda: 0.01))
    await _until(lambda: count.runs >= 3)
    await scheduler.stop()
    after = count.runs
    await asyncio.sleep(0.05)
    assert count.runs == after  # stopped for good


async def test_a_paused_job_waits_for_its_setting_then_one_interval() -> None:
    live = LiveSettings({"sync_llm_interval": "0"})
    count = Counter()
    every = {"seconds": 0.0}
    scheduler = Scheduler(SystemClock(), asyncio.Event(), live)
    scheduler.start(Job("sync", count, lambda: every["seconds"], frozenset({"sync_llm_interval"})))
    await asyncio.sleep(0.1)
    assert count.runs == 0  # paused: not even at start-up
    every["seconds"] = 0.01
    live.set("sync_llm_interval", "1")  # the change wakes the job
    await _until(lambda: count.runs >= 2)
    await scheduler.stop()


async def test_a_failing_job_is_logged_and_keeps_its_schedule(
    caplog: pytest.LogCaptureFixture,
) -> None:
    count = Counter(fail=True)
    scheduler = Scheduler(SystemClock(), asyncio.Event())
    with caplog.at_level(logging.ERROR, logger="octopus.scheduler"):
        scheduler.start(Job("broken", count, lambda: 0.01))
        await _until(lambda: count.runs >= 2)
        await scheduler.stop()
    assert any(r.getMessage() == "background job failed" for r in caplog.records)


async def test_a_refused_lease_skips_the_run() -> None:
    count, lease = Counter(), Refusing()
    scheduler = Scheduler(SystemClock(), asyncio.Event(), lease=lease)
    scheduler.start(Job("once-per-fleet", count, lambda: 0.01))
    await _until(lambda: len(lease.asked) >= 2)
    await scheduler.stop()
    assert count.runs == 0
    assert lease.asked[0] == ("once-per-fleet", 0.01)


async def test_shutdown_ends_the_loop() -> None:
    stopping = asyncio.Event()
    count = Counter()
    scheduler = Scheduler(SystemClock(), stopping)
    scheduler.start(Job("tick", count, lambda: 3600.0))
    await _until(lambda: count.runs == 1)
    stopping.set()
    await asyncio.sleep(0.05)
    await scheduler.stop()
    assert count.runs == 1
