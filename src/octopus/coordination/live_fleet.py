"""What the admin sees of requests in flight: the live log, running rounds, stopping a round.

`LocalFleet` answers for this process alone (one process, no Redis). `RedisFleet`
(live_fleet_redis.py) asks every process of every instance through Redis and falls back to
`LocalFleet` while Redis is away. Each answer says how far it reached (`Scope`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypeVar

T = TypeVar("T")
# fleet: every process that heard the question answered; partial: some did not within the
# bound; local: this process only (no Redis configured, or Redis away)
Scope = Literal["fleet", "partial", "local"]


@dataclass(frozen=True, slots=True)
class Seen(Generic[T]):
    value: T
    scope: Scope


class LiveFeed(Protocol):
    """This process's live log (services/live_log.py)."""

    forward: Callable[[bytes], None] | None

    @property
    def subscribers(self) -> int: ...

    def snapshot(self) -> list[bytes]: ...
    def deliver(self, data: bytes) -> None: ...
    def clear(self) -> None: ...


class RoundControl(Protocol):
    """This process's rounds in flight (the relay service)."""

    def running_rounds(self) -> dict[str, int]: ...
    def stop_round(self, request_id: str, number: int) -> bool: ...


class LiveFleet(Protocol):
    async def running(self) -> Seen[dict[str, int]]:
        """Request id -> the round waiting for its upstream, wherever it runs."""
        ...

    async def stop(self, request_id: str, number: int) -> Seen[bool]:
        """True when the process holding that round stopped it."""
        ...

    async def snapshot(self) -> Seen[list[bytes]]:
        """Running and recent records, newest first; other processes forward theirs from now."""
        ...

    async def clear(self) -> None:
        """Forget the recent (finished) records everywhere: the log was cleared."""
        ...


class LocalFleet:
    def __init__(self, feed: LiveFeed, rounds: RoundControl) -> None:
        self.feed = feed
        self.rounds = rounds

    async def running(self) -> Seen[dict[str, int]]:
        return Seen(self.rounds.running_rounds(), "local")

    async def stop(self, request_id: str, number: int) -> Seen[bool]:
        return Seen(self.rounds.stop_round(request_id, number), "local")

    async def snapshot(self) -> Seen[list[bytes]]:
        return Seen(self.feed.snapshot(), "local")

    async def clear(self) -> None:
        self.feed.clear()
