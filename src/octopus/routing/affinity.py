"""Round-robin start positions and sticky members (API key + group -> member for N seconds)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

from octopus.core.clock import Clock

MAX_STICKY_ENTRIES = 100_000


class RoundRobin(Protocol):
    def next(self, group_id: int) -> int:
        """A counter that grows by one per call, per group."""
        ...


class Stickiness(Protocol):
    def get(self, key_id: int, group_id: int) -> int | None:
        """The member this key is pinned to in this group, if the pin has not expired."""
        ...

    def pin(self, key_id: int, group_id: int, item_id: int, seconds: float) -> float:
        """Pin (or refresh) for `seconds`; returns the monotonic deadline."""
        ...

    def clear(self, group_id: int) -> None: ...


class InMemoryRoundRobin:
    def __init__(self) -> None:
        self._counters: dict[int, int] = {}

    def next(self, group_id: int) -> int:
        value = self._counters.get(group_id, 0)
        self._counters[group_id] = value + 1
        return value


class InMemoryStickiness:
    """Bounded LRU of pins; the oldest pins go first when it is full."""

    def __init__(self, clock: Clock, max_entries: int = MAX_STICKY_ENTRIES) -> None:
        self._clock = clock
        self._max = max_entries
        self._pins: OrderedDict[tuple[int, int], tuple[int, float]] = OrderedDict()

    def get(self, key_id: int, group_id: int) -> int | None:
        pin = self._pins.get((key_id, group_id))
        if pin is None:
            return None
        item_id, until = pin
        if self._clock.monotonic() >= until:
            del self._pins[(key_id, group_id)]
            return None
        return item_id

    def pin(self, key_id: int, group_id: int, item_id: int, seconds: float) -> float:
        until = self._clock.monotonic() + seconds
        slot = (key_id, group_id)
        self._pins[slot] = (item_id, until)
        self._pins.move_to_end(slot)
        while len(self._pins) > self._max:
            self._pins.popitem(last=False)
        return until

    def clear(self, group_id: int) -> None:
        for slot in [s for s in self._pins if s[1] == group_id]:
            del self._pins[slot]
