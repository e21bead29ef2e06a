"""Channel key rotation: disabled keys (401/403) are skipped, rate-limited keys (429) rest a while.

A key disabled here stays disabled until the catalog reports it disabled too (the store has
persisted it); after that the catalog is the truth, so re-enabling it in the admin API works.
"""

from __future__ import annotations

from typing import Protocol

from octopus.core.clock import Clock
from octopus.routing.catalog import Channel, ChannelKey


class KeyHealth(Protocol):
    def usable(self, channel: Channel) -> list[ChannelKey]:
        """Keys to try for one attempt, rotated so that each call starts at the next key."""
        ...

    def disable(self, channel_id: int, key_id: int, reason: str) -> None: ...
    def rest(self, channel_id: int, key_id: int, seconds: float) -> None: ...
    def rest_left(self, channel: Channel) -> float:
        """Seconds until the first resting key of the channel may be used again (0 = none)."""
        ...

    def disabled_reason(self, channel_id: int, key_id: int) -> str | None: ...


class InMemoryKeyHealth:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._turn: dict[int, int] = {}
        self._disabled: dict[tuple[int, int], str] = {}
        self._resting: dict[tuple[int, int], float] = {}

    def usable(self, channel: Channel) -> list[ChannelKey]:
        keys = [k for k in channel.keys if self._ok(channel.id, k)]
        if len(keys) > 1:
            turn = self._turn.get(channel.id, 0)
            self._turn[channel.id] = turn + 1
            start = turn % len(keys)
            keys = keys[start:] + keys[:start]
        return keys

    def disable(self, channel_id: int, key_id: int, reason: str) -> None:
        self._disabled[(channel_id, key_id)] = reason

    def rest(self, channel_id: int, key_id: int, seconds: float) -> None:
        self._resting[(channel_id, key_id)] = self._clock.monotonic() + max(0.0, seconds)

    def rest_left(self, channel: Channel) -> float:
        now = self._clock.monotonic()
        waits = [
            self._resting[(channel.id, k.id)] - now
            for k in channel.keys
            if (channel.id, k.id) in self._resting
        ]
        positive = [w for w in waits if w > 0]
        return min(positive) if positive else 0.0

    def disabled_reason(self, channel_id: int, key_id: int) -> str | None:
        return self._disabled.get((channel_id, key_id))

    def _ok(self, channel_id: int, key: ChannelKey) -> bool:
        slot = (channel_id, key.id)
        if not key.enabled:
            self._disabled.pop(slot, None)  # persisted: the catalog decides from now on
            return False
        if not key.secret or slot in self._disabled:
            return False
        until = self._resting.get(slot)
        if until is not None:
            if self._clock.monotonic() < until:
                return False
            del self._resting[slot]
        return True
