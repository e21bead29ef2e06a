"""Time as an injectable dependency, so cooldowns, windows and tests agree on 'now'."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...
    def time(self) -> float: ...


class SystemClock:
    """The process's clocks, read straight through: no Python frame per reading (the relay
    reads them a dozen times per request)."""

    monotonic = staticmethod(time.monotonic)
    time = staticmethod(time.time)


def elapsed_ms(clock: Clock, began: float) -> int:
    """Whole milliseconds since `began` (a monotonic reading of the same clock)."""
    return int((clock.monotonic() - began) * 1000)
