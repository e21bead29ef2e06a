"""Member health: consecutive failures, capped exponential cooldown and a single recovery probe.

A member is a group item. After `failure_threshold` consecutive failed attempts (across requests)
it cools down for `cooldown * 2**(trips-1)` seconds, capped at `cooldown_max`. When the cooldown
runs out exactly one request may probe it: success makes it healthy again, failure trips it once
more with a doubled cooldown. The state is process-local behind the `MemberHealth` Protocol; a
shared (e.g. Redis) store would implement the same synchronous calls against a local mirror.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from octopus.core.clock import Clock
from octopus.routing.catalog import RelayConfig


class Availability(Enum):
    READY = "ready"
    PROBE = "probe"  # cooldown over; the caller must win `claim_probe` to use it
    COOLING = "cooling"  # cooling down, or another request is probing it


class MemberHealth(Protocol):
    def check(self, item_id: int) -> Availability: ...
    def claim_probe(self, group_id: int, item_id: int) -> bool: ...
    def release_probe(self, group_id: int, item_id: int) -> None: ...
    def record_success(self, group_id: int, item_id: int) -> None: ...
    def record_failure(self, group_id: int, item_id: int, config: RelayConfig) -> bool:
        """Count one failure; True when the member went into cooldown."""
        ...

    def cooldown_left(self, item_id: int) -> float: ...
    def note_sticky(self, group_id: int, until: float) -> None: ...
    def reset(self, group_id: int) -> None: ...
    def snapshot(self, group_id: int) -> dict[str, Any]: ...
    def group_ids(self) -> list[int]: ...
    def add_listener(self, listener: Callable[[int], None]) -> Callable[[], None]:
        """Call `listener(group_id)` after each change; returns the unsubscribe function."""
        ...


@dataclass(slots=True)
class _Member:
    failures: int = 0
    trips: int = 0
    cooldown_until: float = 0.0  # monotonic seconds
    probing: bool = False


@dataclass(slots=True)
class _Group:
    members: dict[int, _Member] = field(default_factory=dict)
    current_item_id: int = 0
    probe_item_id: int = 0
    sticky_until: float = 0.0


class InMemoryHealth:
    """The default MemberHealth: one process, state lost on restart."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._members: dict[int, _Member] = {}
        self._groups: dict[int, _Group] = {}
        self._listeners: list[Callable[[int], None]] = []

    def check(self, item_id: int) -> Availability:
        member = self._members.get(item_id)
        if member is None or member.trips == 0:
            return Availability.READY
        if member.probing or self._clock.monotonic() < member.cooldown_until:
            return Availability.COOLING
        return Availability.PROBE

    def claim_probe(self, group_id: int, item_id: int) -> bool:
        if self.check(item_id) is not Availability.PROBE:
            return False
        self._member(group_id, item_id).probing = True
        self._group(group_id).probe_item_id = item_id
        self._changed(group_id)
        return True

    def release_probe(self, group_id: int, item_id: int) -> None:
        member = self._members.get(item_id)
        if member is not None and member.probing:
            member.probing = False
            self._clear_probe(group_id, item_id)
            self._changed(group_id)

    def record_success(self, group_id: int, item_id: int) -> None:
        member = self._members.get(item_id)
        group = self._group(group_id)
        if member is not None and (member.trips or member.failures or member.probing):
            member.failures = member.trips = 0
            member.cooldown_until = 0.0
            member.probing = False
            self._clear_probe(group_id, item_id)
        elif group.current_item_id == item_id:
            return  # nothing changed: keep the hot path free of listener calls
        group.current_item_id = item_id
        self._changed(group_id)

    def record_failure(self, group_id: int, item_id: int, config: RelayConfig) -> bool:
        member = self._member(group_id, item_id)
        member.failures += 1
        tripped = member.probing or member.failures >= max(1, config.failure_threshold)
        if tripped:
            member.trips += 1
            member.failures = 0
            member.probing = False
            backoff = config.cooldown * 2 ** min(member.trips - 1, 30)
            member.cooldown_until = self._clock.monotonic() + min(backoff, config.cooldown_max)
            self._clear_probe(group_id, item_id)
            group = self._group(group_id)
            if group.current_item_id == item_id:
                group.current_item_id = 0
        self._changed(group_id)
        return tripped

    def cooldown_left(self, item_id: int) -> float:
        member = self._members.get(item_id)
        if member is None:
            return 0.0
        return max(0.0, member.cooldown_until - self._clock.monotonic())

    def note_sticky(self, group_id: int, until: float) -> None:
        group = self._group(group_id)
        if until > group.sticky_until:
            group.sticky_until = until
            self._changed(group_id)

    def reset(self, group_id: int) -> None:
        """Forget every failure, cooldown, probe and stickiness mark of one group."""
        group = self._groups.pop(group_id, None)
        if group is not None:
            for item_id in group.members:
                self._members.pop(item_id, None)
        self._changed(group_id)

    def snapshot(self, group_id: int) -> dict[str, Any]:
        group = self._groups.get(group_id) or _Group()
        now_mono, now_wall = self._clock.monotonic(), self._clock.time()

        def wall_ms(deadline: float) -> int:
            return int((now_wall + deadline - now_mono) * 1000)

        cooldowns = {
            str(item_id): wall_ms(m.cooldown_until)
            for item_id, m in group.members.items()
            if m.cooldown_until > now_mono
        }
        failures = {str(i): m.failures for i, m in group.members.items() if m.failures}
        return {
            "group_id": group_id,
            "current_item_id": group.current_item_id,
            "probe_item_id": group.probe_item_id,
            "affinity_until": wall_ms(group.sticky_until) if group.sticky_until > now_mono else 0,
            "cooldowns": cooldowns,
            "failures": failures,
            "trips": {str(i): m.trips for i, m in group.members.items() if m.trips},
        }

    def group_ids(self) -> list[int]:
        return sorted(self._groups)

    def add_listener(self, listener: Callable[[int], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _member(self, group_id: int, item_id: int) -> _Member:
        member = self._members.get(item_id)
        if member is None:
            member = self._members[item_id] = _Member()
        self._group(group_id).members[item_id] = member
        return member

    def _group(self, group_id: int) -> _Group:
        group = self._groups.get(group_id)
        if group is None:
            group = self._groups[group_id] = _Group()
        return group

    def _clear_probe(self, group_id: int, item_id: int) -> None:
        group = self._group(group_id)
        if group.probe_item_id == item_id:
            group.probe_item_id = 0

    def _changed(self, group_id: int) -> None:
        for listener in list(self._listeners):
            listener(group_id)
