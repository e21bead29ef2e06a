"""KeyLimiter on Redis: rpm, tpm, concurrency and budget shared by every gateway instance.

Requests and tokens per minute use a sliding-window estimate over two fixed one-minute
buckets (the previous bucket weighted by how much of it still overlaps the window), checked
and counted atomically in one Lua call. Concurrency slots expire after `SLOT_TTL` so a crashed
instance cannot hold them forever. When Redis is unreachable the limiter fails open (requests
are served, one warning per minute): an outage of the shared store must not stop the gateway.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from octopus.core.clock import Clock
from octopus.errors import Forbidden, RateLimited
from octopus.relay.limits import Lease
from octopus.routing.catalog import ApiKey

log = logging.getLogger("octopus.shared")
WINDOW = 60
SLOT_TTL = 600
_ACQUIRE = """
local spent = tonumber(redis.call('GET', KEYS[6]) or '0')
if tonumber(ARGV[4]) > 0 and spent >= tonumber(ARGV[4]) then return 1 end
local left = 1 - tonumber(ARGV[5])
if tonumber(ARGV[2]) > 0 then
  local n = tonumber(redis.call('GET', KEYS[2]) or '0')
    + tonumber(redis.call('GET', KEYS[3]) or '0') * left
  if n >= tonumber(ARGV[2]) then return 2 end
end
if tonumber(ARGV[3]) > 0 then
  local t = tonumber(redis.call('GET', KEYS[4]) or '0')
    + tonumber(redis.call('GET', KEYS[5]) or '0') * left
  if t >= tonumber(ARGV[3]) then return 3 end
end
if tonumber(ARGV[1]) > 0 then
  local c = redis.call('INCR', KEYS[1])
  redis.call('EXPIRE', KEYS[1], ARGV[6])
  if c > tonumber(ARGV[1]) then redis.call('DECR', KEYS[1]) return 4 end
end
if tonumber(ARGV[2]) > 0 then
  redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], 2 * 60)
end
return 0
"""


class RedisLimiter:
    """Implements `octopus.relay.limits.KeyLimiter` against a shared Redis."""

    def __init__(self, client: Redis, clock: Clock, prefix: str = "octopus:") -> None:
        self._redis = client
        self._clock = clock
        self._prefix = prefix
        self._script = client.register_script(_ACQUIRE)
        self._spent: dict[int, float] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._last_warning = -math.inf

    async def acquire(self, key: ApiKey) -> Lease:
        if not (key.max_rpm or key.max_tpm or key.max_concurrency or key.max_cost):
            return Lease(key.id, concurrent=False)
        now = self._clock.time()
        minute, fraction = divmod(now, WINDOW)
        keys = self._keys(key.id, int(minute))
        args = [key.max_concurrency, key.max_rpm, key.max_tpm, key.max_cost, fraction / WINDOW]
        try:
            verdict = int(await self._script(keys=keys, args=[*args, SLOT_TTL]))
        except (RedisError, OSError) as exc:
            self._warn(exc)
            return Lease(key.id, concurrent=False)
        _raise_for(verdict, key, WINDOW - fraction)
        return Lease(key.id, concurrent=bool(key.max_concurrency))

    def release(self, lease: Lease, tokens: int) -> None:
        minute = int(self._clock.time() // WINDOW)
        self._spawn(self._release(lease, tokens, minute))

    def add_spent(self, key_id: int, cost: float) -> None:
        if cost > 0:
            self._spent[key_id] = self._spent.get(key_id, 0.0) + cost
            self._spawn(self._redis.incrbyfloat(self._name("spent", key_id), cost))

    def spent(self, key_id: int) -> float:
        return self._spent.get(key_id, 0.0)

    def set_spent(self, key_id: int, cost: float) -> None:
        self._spent[key_id] = cost
        self._spawn(self._redis.set(self._name("spent", key_id), repr(cost)))

    async def seed(self, spent: Mapping[int, float]) -> None:
        """Start every key's budget from the lifetime cost the database holds (authoritative)."""
        self._spent = dict(spent)
        if not spent:
            return
        try:
            await self._redis.mset({self._name("spent", k): repr(v) for k, v in spent.items()})
        except (RedisError, OSError) as exc:
            self._warn(exc)

    async def drain(self) -> None:
        """Wait for pending counter updates (graceful shutdown)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _release(self, lease: Lease, tokens: int, minute: int) -> None:
        pipe = self._redis.pipeline(transaction=False)
        if lease.concurrent:
            pipe.decr(self._name("conc", lease.key_id))
        if tokens > 0:
            bucket = self._name("tpm", lease.key_id, minute)
            pipe.incrby(bucket, tokens)
            pipe.expire(bucket, 2 * WINDOW)
        await pipe.execute()

    def _keys(self, key_id: int, minute: int) -> list[str]:
        return [
            self._name("conc", key_id),
            self._name("rpm", key_id, minute),
            self._name("rpm", key_id, minute - 1),
            self._name("tpm", key_id, minute),
            self._name("tpm", key_id, minute - 1),
            self._name("spent", key_id),
        ]

    def _name(self, kind: str, key_id: int, minute: int | None = None) -> str:
        suffix = f":{minute}" if minute is not None else ""
        return f"{self._prefix}limit:{kind}:{key_id}{suffix}"

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(self._guard(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guard(self, work: Any) -> None:
        try:
            await work
        except (RedisError, OSError) as exc:
            self._warn(exc)

    def _warn(self, exc: BaseException) -> None:
        now = self._clock.monotonic()
        if now - self._last_warning >= WINDOW:
            self._last_warning = now
            log.warning(
                "redis unavailable: key limits are not enforced",
                extra={"fields": {"error": type(exc).__name__}},
            )


def _raise_for(verdict: int, key: ApiKey, to_next_minute: float) -> None:
    wait = float(max(1, math.ceil(to_next_minute)))
    if verdict == 1:
        raise Forbidden("API key has reached its spending limit (max_cost)")
    if verdict == 2:
        raise RateLimited(
            f"API key rate limit reached: at most {key.max_rpm} requests per minute",
            retry_after=wait,
        )
    if verdict == 3:
        raise RateLimited(
            f"API key rate limit reached: at most {key.max_tpm} tokens per minute", retry_after=wait
        )
    if verdict == 4:
        raise RateLimited(
            f"API key rate limit reached: at most {key.max_concurrency} concurrent requests",
            retry_after=1.0,
        )
