"""Login throttling per key (a client address, a username): a growing wait, then a lock.

Attempts are counted when they start, before the slow hash is checked, so parallel guesses
see each other; a success clears the count. `LoginThrottles` is the seam: `LocalThrottles` counts
in this process, coordination/redis_throttle.py counts for the whole fleet."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from octopus.core.clock import Clock


@dataclass
class _Record:
    failures: int = 0
    not_before: float = 0.0


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 3  # failures allowed before any wait
    base_delay: float = 1.0  # wait after the first counted failure; doubles each time
    lock_after: int = 10  # failures that lock the address
    lock_seconds: float = 900.0


ADDRESS_POLICY = ThrottlePolicy()
# a username is guessed at from many addresses: its own, gentler limit (a wait, a short lock)
USERNAME_POLICY = ThrottlePolicy(free_failures=5, base_delay=1.0, lock_after=15, lock_seconds=300)


class LoginThrottle:
    def __init__(self, clock: Clock, policy: ThrottlePolicy | None = None) -> None:
        self._clock = clock
        self._policy = policy or ThrottlePolicy()
        self._records: dict[str, _Record] = {}

    @property
    def policy(self) -> ThrottlePolicy:
        return self._policy

    def retry_after(self, address: str) -> float:
        """Seconds this address must still wait before it may try again (0 = go ahead)."""
        record = self._records.get(address)
        if record is None:
            return 0.0
        return max(0.0, record.not_before - self._clock.monotonic())

    def failed(self, address: str) -> int:
        record = self._records.setdefault(address, _Record())
        record.failures += 1
        policy = self._policy
        if record.failures >= policy.lock_after:
            wait = policy.lock_seconds
        elif record.failures > policy.free_failures:
            wait = policy.base_delay * 2 ** (record.failures - policy.free_failures - 1)
        else:
            wait = 0.0
        record.not_before = self._clock.monotonic() + min(wait, policy.lock_seconds)
        self._prune()
        return record.failures

    def succeeded(self, address: str) -> None:
        self._records.pop(address, None)

    def _prune(self) -> None:
        # bounded memory under a spray of addresses: forget the ones free to try again
        if len(self._records) > 10_000:
            now = self._clock.monotonic()
            for key in [k for k, r in self._records.items() if r.not_before < now]:
                del self._records[key]


class LoginThrottles(Protocol):
    async def admit(self, address: str, username: str) -> float:
        """0 once the attempt is counted against both, or the seconds still to wait (not
        counted). `username` comes already folded (case and spaces)."""
        ...

    async def succeeded(self, address: str, username: str) -> None: ...


@dataclass
class LocalThrottles:
    """Both throttles in this process: one gateway, or the fallback while Redis is away."""

    by_address: LoginThrottle
    by_username: LoginThrottle
    policies: tuple[ThrottlePolicy, ThrottlePolicy] = field(init=False)

    def __post_init__(self) -> None:
        self.policies = (self.by_address.policy, self.by_username.policy)

    @classmethod
    def default(cls, clock: Clock) -> LocalThrottles:
        return cls(LoginThrottle(clock, ADDRESS_POLICY), LoginThrottle(clock, USERNAME_POLICY))

    async def admit(self, address: str, username: str) -> float:
        wait = max(self.by_address.retry_after(address), self.by_username.retry_after(username))
        if wait > 0:
            return wait
        self.by_address.failed(address)
        self.by_username.failed(username)
        return 0.0

    async def succeeded(self, address: str, username: str) -> None:
        self.by_address.succeeded(address)
        self.by_username.succeeded(username)
