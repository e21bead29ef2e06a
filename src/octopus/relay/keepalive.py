"""Keep-alives during upstream silence, from one re-armed deadline per stream (core/deadlines).

The pump only records when bytes last went out (a float store in `last`); a timer checks that
stamp every `interval` and writes the client codec's keep-alive when the stream has been quiet
that long. Writes happen between whole events only, because the pumps write whole events.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from octopus.core.deadlines import deadlines_of


class Keepalive:
    def __init__(
        self, write: Callable[[bytes], Awaitable[None]], payload: bytes, interval: float
    ) -> None:
        self._write = write
        self._payload = payload
        self._interval = interval
        self._loop = asyncio.get_running_loop()
        self._deadlines = deadlines_of(self._loop)
        self.now = self._loop.time  # the clock `last` is read on
        self.last = self.now()  # when bytes last went out: the pump stores it after each write
        self._handle = self._deadlines.call_at(self.last + interval, self._fire)
        self._task: asyncio.Task[None] | None = None

    def _fire(self) -> None:
        now = self._loop.time()
        due = self.last + self._interval
        if now >= due:
            if self._task is None or self._task.done():
                self._task = self._loop.create_task(self._send())
            self.last = now
            due = now + self._interval
        self._handle = self._deadlines.call_at(due, self._fire)

    async def _send(self) -> None:
        with contextlib.suppress(Exception):  # the pump reports a broken client itself
            await self._write(self._payload)

    @property
    def interval(self) -> float:
        return self._interval

    async def stop(self) -> None:
        """No keep-alive after this returns (the stream is about to end)."""
        self._handle.cancel()
        if self._task is not None:
            await self._task
