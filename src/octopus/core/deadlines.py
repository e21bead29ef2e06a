"""Per-request deadlines that almost never fire, kept in buckets swept by one loop timer.

A request arms several timers that are nearly always cancelled before they fire: the attempt's
time limit, each wait on the upstream, the stream's keep-alive and silence checks. A uvloop
timer costs about 2 µs to arm and cancel (a libuv handle each, closed through the loop); here a
deadline is an entry in the bucket of its slot, and one loop timer wakes for the earliest slot
that holds any. A deadline fires never early, and at most RESOLUTION late, or COARSE slots late
when it was armed FAR or more ahead (a time limit of seconds, a keep-alive): the slots queued
for the sweep then stay few, however many deadlines come and go.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import weakref
from collections.abc import Callable
from typing import Any

RESOLUTION = 0.005  # seconds: one slot, how late a near deadline may fire
COARSE = 20  # slots (0.1 s): how late a far one may fire
FAR = 1.0  # seconds ahead


class Deadline:
    """One armed callback; `cancel` takes it out (a no-op once it fired or was cancelled)."""

    __slots__ = ("_args", "_callback", "_owner", "slot")

    def __init__(
        self, owner: Deadlines, slot: int, callback: Callable[..., object], args: tuple[Any, ...]
    ) -> None:
        self._owner: Deadlines | None = owner
        self.slot = slot
        self._callback = callback
        self._args = args

    def cancel(self) -> None:
        owner, self._owner = self._owner, None
        if owner is not None:
            owner.forget(self)
        self._drop()

    def fire(self) -> None:
        self._owner = None
        callback, args = self._callback, self._args
        self._drop()
        callback(*args)

    def _drop(self) -> None:
        """Let go of the callback, as a loop's timer handle does: an owner that keeps its
        deadline (a bound method of its own) would otherwise be a reference cycle."""
        self._callback, self._args = _nothing, ()


def _nothing() -> None:
    """A spent deadline's callback."""


class Deadlines:
    """The deadlines of one event loop (`deadlines_of(loop)`)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._buckets: dict[int, dict[Deadline, None]] = {}  # slot -> its deadlines, in order
        self._slots: list[int] = []  # heap of slots to sweep (one emptied by cancels lingers)
        self._queued: set[int] = set()  # what `_slots` holds: each slot is queued once
        self._armed: int | None = None  # the slot the loop timer wakes for
        self._timer: asyncio.TimerHandle | None = None

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> Deadline:
        return self._add(self._loop.time() + delay, delay >= FAR, callback, args)

    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> Deadline:
        """`callback(*args)` at loop time `when`, never before (see the module's lateness)."""
        return self._add(when, when - self._loop.time() >= FAR, callback, args)

    def _add(
        self, when: float, far: bool, callback: Callable[..., object], args: tuple[Any, ...]
    ) -> Deadline:
        slot = math.ceil(when / RESOLUTION)
        if far:
            slot = -(-slot // COARSE) * COARSE  # up to a coarse slot
        deadline = Deadline(self, slot, callback, args)
        bucket = self._buckets.get(slot)
        if bucket is None:
            bucket = self._buckets[slot] = {}
            if slot not in self._queued:
                self._queued.add(slot)
                heapq.heappush(self._slots, slot)
            if self._armed is None or slot < self._armed:
                self._arm(slot)
        bucket[deadline] = None
        return deadline

    def forget(self, deadline: Deadline) -> None:
        bucket = self._buckets.get(deadline.slot)
        if bucket is not None:
            bucket.pop(deadline, None)
            if not bucket:
                del self._buckets[deadline.slot]  # its slot leaves the heap when swept past

    def pending(self) -> int:
        return sum(len(bucket) for bucket in self._buckets.values())

    def queued(self) -> int:
        """Slots waiting for the sweep (bounded by the slots in reach, not by the deadlines)."""
        return len(self._slots)

    def _fire(self, deadline: Deadline) -> None:
        """One callback; a failing one is reported as the loop reports its own callbacks', and
        the sweep goes on (the other deadlines of its slot, the next wake-up)."""
        try:
            deadline.fire()
        except Exception as exc:
            self._loop.call_exception_handler(
                {"message": "a deadline's callback failed", "exception": exc}
            )

    def _arm(self, slot: int) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._armed = slot
        self._timer = self._loop.call_at(slot * RESOLUTION, self._sweep)

    def _sweep(self) -> None:
        self._timer = self._armed = None
        now, slots = self._loop.time(), self._slots
        while slots and slots[0] * RESOLUTION <= now:
            slot = heapq.heappop(slots)
            self._queued.discard(slot)
            for deadline in list(self._buckets.pop(slot, None) or ()):
                self._fire(deadline)
        while slots and slots[0] not in self._buckets:  # emptied by cancels: no wake-up for them
            self._queued.discard(heapq.heappop(slots))
        if slots and self._armed is None:  # a callback may have armed an earlier slot already
            self._arm(slots[0])


_BY_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Deadlines] = (
    weakref.WeakKeyDictionary()
)


def deadlines_of(loop: asyncio.AbstractEventLoop) -> Deadlines:
    """The loop's deadlines, made on first use (one sweep timer per loop, like its own timers)."""
    found = _BY_LOOP.get(loop)
    if found is None:
        found = _BY_LOOP[loop] = Deadlines(loop)
    return found
