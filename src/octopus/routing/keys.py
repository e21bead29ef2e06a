"""Channel key rotation: disabled keys are skipped, resting keys (429, 403, 401 while it is
checked) sit out a while, with the reason kept for the admin.

A key disabled here (a 401 its probe confirmed) stays disabled until the catalog reports it
disabled too (the store has persisted it); after that the catalog is the truth. `clear` forgets
every block of a channel's keys at once: the admin calls it when it saves or enables a channel.
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
    def rest(self, channel_id: int, key_id: int, seconds: float, reason: str = "") -> None: ...
    def resting(self, channel_id: int, key_id: int) -> tuple[float, str] | None:
        """(seconds left, reason) while the key rests, else None."""
        ...

    def clear(self, channel_id: int) -> None:
        """Forget every rest and block of the channel's keys (the admin re-enabled or saved it)."""
        ...

    def clear_rest(self, channel_id: int, key_id: int) -> None:
        """End one key's rest early (its check passed)."""
        ...

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
        self._reasons: dict[tuple[int, int], str] = {}

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

    def rest(self, channel_id: int, key_id: int, seconds: float, reason: str = "") -> None:
        self._resting[(channel_id, key_id)] = self._clock.monotonic() + max(0.0, seconds)
        self._reasons[(channel_id, key_id)] = reason

    def resting(self, channel_id: int, key_id: int) -> tuple[float, str] | None:
        until = self._resting.get((channel_id, key_id))
        left = until - self._clock.monotonic() if until is not None else 0.0
        if left <= 0:
            return None
        return left, self._reasons.get((channel_id, key_id), "")

    def clear_rest(self, channel_id: int, key_id: int) -> None:
        self._resting.pop((channel_id, key_id), None)
        self._reasons.pop((channel_id, key_id), None)

    def clear(self, channel_id: int) -> None:
        for table in (self._disabled, self._resting, self._reasons):
            for slot in [s for s in table if s[0] == channel_id]:
                del table[slot]

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
