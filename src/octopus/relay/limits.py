"""Per-API-key limits: requests per minute, tokens per minute, concurrent requests and budget.

`KeyLimiter.acquire(key, reserve)` is awaited once per request before routing and raises
RateLimited (with `retry_after`) or Forbidden (budget spent). For a key with `max_cost` it holds
`reserve` (the request's worst-case cost, relay/budget.py) against the budget, clipped to what
is left; a request is admitted only while spent + held is below the budget. `settle` is called
exactly once per lease with the tokens and the cost the request really used: the hold is
dropped and the cost added. So concurrent requests overshoot the budget by at most the one
clipped request's settled-minus-reserved difference. `spent` starts from the lifetime cost the
store loaded (`set_spent`). The in-process limiter counts per worker process.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from octopus.core.clock import Clock
from octopus.errors import Forbidden, RateLimited
from octopus.routing.catalog import ApiKey

WINDOW = 60.0


SPENT = "API key has reached its spending limit (max_cost)"


@dataclass(frozen=True, slots=True)
class Lease:
    key_id: int
    concurrent: bool  # whether a concurrency slot was taken
    reserved: float = 0.0  # USD held against the budget until `settle`
    token: str = ""  # the shared limiter's lease id ("" = held in this process)


class KeyLimiter(Protocol):
    async def acquire(self, key: ApiKey, reserve: float = 0.0) -> Lease: ...
    def settle(self, lease: Lease, tokens: int, cost: float) -> None: ...
    def add_spent(self, key_id: int, cost: float) -> None: ...
    def spent(self, key_id: int) -> float: ...
    def set_spent(self, key_id: int, cost: float) -> None: ...


class _Window:
    __slots__ = ("active", "requests", "tokens", "tokens_sum")

    def __init__(self) -> None:
        self.requests: deque[float] = deque()
        self.tokens: deque[tuple[float, int]] = deque()
        self.tokens_sum = 0
        self.active = 0

    def expire(self, now: float) -> None:
        edge = now - WINDOW
        while self.requests and self.requests[0] <= edge:
            self.requests.popleft()
        while self.tokens and self.tokens[0][0] <= edge:
            self.tokens_sum -= self.tokens.popleft()[1]


class InProcessLimiter:
    def __init__(self, clock: Clock, spent: Mapping[int, float] | None = None) -> None:
        self._clock = clock
        self._spent: dict[int, float] = dict(spent or {})
        self._windows: dict[int, _Window] = {}
        self._held: dict[int, float] = {}

    async def acquire(self, key: ApiKey, reserve: float = 0.0) -> Lease:
        held = 0.0
        if key.max_cost > 0:
            left = key.max_cost - self._spent.get(key.id, 0.0) - self._held.get(key.id, 0.0)
            if left <= 0:
                raise Forbidden(SPENT)
            held = min(max(0.0, reserve), left)
        lease = self._count(key, held)
        if held:
            self._held[key.id] = self._held.get(key.id, 0.0) + held
        return lease

    def _count(self, key: ApiKey, held: float) -> Lease:
        if not (key.max_rpm or key.max_tpm or key.max_concurrency):
            return Lease(key.id, concurrent=False, reserved=held)
        now = self._clock.monotonic()
        window = self._windows.get(key.id)
        if window is None:
            window = self._windows[key.id] = _Window()
        window.expire(now)
        if key.max_concurrency and window.active >= key.max_concurrency:
            raise _limited(f"at most {key.max_concurrency} concurrent requests", 1.0)
        if key.max_rpm and len(window.requests) >= key.max_rpm:
            raise _limited(
                f"at most {key.max_rpm} requests per minute", window.requests[0] + WINDOW - now
            )
        if key.max_tpm and window.tokens_sum >= key.max_tpm:
            raise _limited(
                f"at most {key.max_tpm} tokens per minute", window.tokens[0][0] + WINDOW - now
            )
        window.requests.append(now)
        if key.max_concurrency:
            window.active += 1
        return Lease(key.id, concurrent=bool(key.max_concurrency), reserved=held)

    def settle(self, lease: Lease, tokens: int, cost: float) -> None:
        if lease.reserved:
            left = self._held.get(lease.key_id, 0.0) - lease.reserved
            self._held[lease.key_id] = left if left > 1e-12 else 0.0
        self.add_spent(lease.key_id, cost)
        self._release(lease, tokens)

    def held(self, key_id: int) -> float:
        return self._held.get(key_id, 0.0)

    def _release(self, lease: Lease, tokens: int) -> None:
        window = self._windows.get(lease.key_id)
        if window is None:
            return
        if lease.concurrent:
            window.active = max(0, window.active - 1)
        if tokens > 0:
            window.tokens.append((self._clock.monotonic(), tokens))
            window.tokens_sum += tokens

    def add_spent(self, key_id: int, cost: float) -> None:
        if cost > 0:
            self._spent[key_id] = self._spent.get(key_id, 0.0) + cost

    def spent(self, key_id: int) -> float:
        return self._spent.get(key_id, 0.0)

    def set_spent(self, key_id: int, cost: float) -> None:
        self._spent[key_id] = cost


def _limited(what: str, retry_after: float) -> RateLimited:
    seconds = max(1, math.ceil(retry_after))
    return RateLimited(f"API key rate limit reached: {what}", retry_after=float(seconds))
