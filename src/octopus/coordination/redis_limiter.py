"""KeyLimiter on Redis: rpm, tpm, concurrency and budget exact across every gateway process.

Every check-and-count is one Lua script on Redis server time, so processes with skewed clocks
agree. Keys are hash-tagged per API key (`{prefix}{k<id>}:...`), so each script touches one
Redis Cluster slot. Requests per minute are a sliding log (a sorted set of admission times);
tokens per minute are per-second buckets; concurrency slots and budget holds are leases that
expire LEASE_TTL seconds after their last renewal (renewed every RENEW_EVERY while the request
runs), so a crashed process leaks nothing for longer than LEASE_TTL. A lease without a slot or
a hold is settled in batches: its tokens and cost wait up to FLUSH_EVERY and go with the others
of that key in one call (one script per request instead of two on the busy path).

Every call goes through the process's one `RedisLink`: 50 ms on the request path (acquire),
1 s in the background (settle, renew, seed). When Redis is unreachable or slow the link is in
`local-fallback` for a second (so /readyz reports it) and the limiter uses the in-process limiter
(never "unlimited"), logging it once a minute; a lease keeps the side that granted it. Costs that
could not be added to Redis are kept and added with the next settle of that key.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from octopus.coordination.link import FAST_TIMEOUT, SLOW_TIMEOUT, RedisLink
from octopus.coordination.resp import Arg
from octopus.core.clock import Clock
from octopus.errors import Forbidden, RateLimited
from octopus.relay.limits import SPENT, InProcessLimiter, Lease
from octopus.routing.catalog import ApiKey

log = logging.getLogger("octopus.coordination")
WINDOW = 60.0
LEASE_TTL = 30.0
RENEW_EVERY = 10.0
WARN_EVERY = 60.0
FLUSH_EVERY = 0.05  # seconds tokens and costs of slot-less leases wait to be added together
_AWAY: Any = object()  # what a call answers when Redis did not, in time

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
"""
# KEYS: rpm, tpm, conc, held, spent
# ARGV: max_conc, max_rpm, max_tpm, max_cost, reserve, lease, window, ttl, seed_spent
_ACQUIRE = (
    _NOW
    + """
local window, ttl = tonumber(ARGV[7]), tonumber(ARGV[8])
local held = 0
local max_cost = tonumber(ARGV[4])
if max_cost > 0 then
  local spent = redis.call('GET', KEYS[5])
  if not spent then
    spent = ARGV[9]
    redis.call('SET', KEYS[5], spent)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  local holding = 0
  for _, m in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
    holding = holding + tonumber(string.match(m, ':([^:]*)$'))
  end
  local left = max_cost - tonumber(spent) - holding
  if left <= 0 then return {1, spent} end
  held = math.min(tonumber(ARGV[5]), left)
end
local max_conc = tonumber(ARGV[1])
if max_conc > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= max_conc then return {4, '1'} end
end
local max_rpm = tonumber(ARGV[2])
if max_rpm > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  if redis.call('ZCARD', KEYS[1]) >= max_rpm then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return {2, tostring(tonumber(oldest[2]) + window - now)}
  end
end
local max_tpm = tonumber(ARGV[3])
if max_tpm > 0 then
  local buckets = redis.call('HGETALL', KEYS[2])
  local sum, first = 0, nil
  for i = 1, #buckets, 2 do
    local second = tonumber(buckets[i])
    if second <= now - window then
      redis.call('HDEL', KEYS[2], buckets[i])
    else
      sum = sum + tonumber(buckets[i + 1])
      if first == nil or second < first then first = second end
    end
  end
  if sum >= max_tpm then return {3, tostring(first + window - now)} end
end
if max_rpm > 0 then
  redis.call('ZADD', KEYS[1], now, ARGV[6])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
end
if max_conc > 0 then
  redis.call('ZADD', KEYS[3], now + ttl, ARGV[6])
  redis.call('PEXPIRE', KEYS[3], math.ceil(ttl * 1000) + 1000)
end
if held > 0 then
  redis.call('ZADD', KEYS[4], now + ttl, ARGV[6] .. ':' .. string.format('%.12f', held))
  redis.call('PEXPIRE', KEYS[4], math.ceil(ttl * 1000) + 1000)
end
if held == 0 then return 0 end  -- the common answer, the cheapest to read
return {0, string.format('%.12f', held)}
"""
)
# KEYS: tpm, conc, held, spent   ARGV: lease, tokens, cost, window, seed_spent
_SETTLE = (
    _NOW
    + """
redis.call('ZREM', KEYS[2], ARGV[1])
local mine = ARGV[1] .. ':'
for _, m in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  if string.sub(m, 1, #mine) == mine then redis.call('ZREM', KEYS[3], m) end
end
local tokens = tonumber(ARGV[2])
if tokens > 0 then
  redis.call('HINCRBY', KEYS[1], tostring(math.floor(now)), tokens)
  redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[4]) * 1000) + 1000)
end
if redis.call('EXISTS', KEYS[4]) == 0 then redis.call('SET', KEYS[4], ARGV[5]) end
if tonumber(ARGV[3]) > 0 then return redis.call('INCRBYFLOAT', KEYS[4], ARGV[3]) end
return redis.call('GET', KEYS[4])
"""
)
# KEYS: spent   ARGV: the database's lifetime cost; Redis also holds costs not yet flushed there
_SEED = """
local spent = redis.call('GET', KEYS[1])
if not spent or tonumber(spent) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 0
"""
# KEYS: conc, held   ARGV: lease, ttl
_RENEW = (
    _NOW
    + """
local expiry = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[1])
local mine = ARGV[1] .. ':'
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if string.sub(m, 1, #mine) == mine then redis.call('ZADD', KEYS[2], 'XX', expiry, m) end
end
local keep = math.ceil(tonumber(ARGV[2]) * 1000) + 1000
redis.call('PEXPIRE', KEYS[1], keep)
redis.call('PEXPIRE', KEYS[2], keep)
return 0
"""
)


class RedisLimiter:
    """Implements `octopus.relay.limits.KeyLimiter` against a shared Redis."""

    def __init__(
        self,
        link: RedisLink,
        clock: Clock,
        *,
        window: float = WINDOW,
        lease_ttl: float = LEASE_TTL,
        call_timeout: float = FAST_TIMEOUT,
    ) -> None:
        self._link = link
        self._clock = clock
        self._prefix = link.prefix
        self._window = window
        self._ttl = lease_ttl
        self._timeout = call_timeout
        self._acquire = link.script(_ACQUIRE)
        self._settle = link.script(_SETTLE)
        self._renew = link.script(_RENEW)
        self._seed = link.redis.register_script(_SEED)  # run in a redis-py pipeline at start
        self._local = InProcessLimiter(clock)
        self._unsynced: dict[int, float] = {}  # cost not yet added in Redis, per key
        self._live: dict[str, int] = {}  # lease id -> key id, renewed while running
        self._ids = itertools.count(1)
        self._instance = secrets.token_hex(4)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._renewer: asyncio.Task[None] | None = None
        self._tokens: dict[int, int] = {}  # tokens not yet added in Redis, per key
        self._flush_timer: asyncio.TimerHandle | None = None
        self._last_warning = -math.inf
        self._names: dict[int, list[Arg]] = {}
        self._encoded_limits: dict[int, tuple[ApiKey, tuple[Arg, ...]]] = {}
        self._lease_args = (link.bulk(window), link.bulk(lease_ttl))

    @property
    def mode(self) -> Literal["redis", "local-fallback"]:
        return self._link.mode

    async def acquire(self, key: ApiKey, reserve: float = 0.0) -> Lease:
        if not (key.max_rpm or key.max_tpm or key.max_concurrency or key.max_cost):
            return Lease(key.id, concurrent=False)
        token = f"{self._instance}-{next(self._ids)}"
        args: list[Arg] = [*self._limits(key), max(0.0, reserve), token, *self._lease_args]
        args.append(repr(self._synced_spent(key.id)))
        call = self._link.send(self._acquire, self._keys(key.id), args, self._timeout)
        answer = await self._link.reply(call, _AWAY)
        if answer is _AWAY:
            self._fell_back()
            return await self._local.acquire(key, reserve)
        if answer == 0:  # admitted, nothing held
            return self._granted(key, token, 0.0)
        verdict, value = answer
        if int(verdict) == 1:
            self._local.set_spent(key.id, float(_text(value)))
        _raise_for(int(verdict), key, _text(value))
        return self._granted(key, token, float(_text(value)))

    def _granted(self, key: ApiKey, token: str, held: float) -> Lease:
        concurrent = bool(key.max_concurrency)
        if concurrent or held:
            self._live[token] = key.id
            self._ensure_renewer()
        return Lease(key.id, concurrent=concurrent, reserved=held, token=token)

    def settle(self, lease: Lease, tokens: int, cost: float) -> None:
        if not lease.token:  # granted locally: Redis never saw it, whatever the mode is now
            self._local.settle(lease, tokens, cost)
            if cost > 0:
                self._unsynced[lease.key_id] = self._unsynced.get(lease.key_id, 0.0) + cost
            return
        self._live.pop(lease.token, None)
        if lease.concurrent or lease.reserved:  # a slot or a hold is given back at once
            self._local.add_spent(lease.key_id, cost)  # the fallback's view stays close to Redis
            self._spawn(self._settle_remote(lease.key_id, lease.token, tokens, cost))
            return
        self.add_spent(lease.key_id, cost)  # owed to Redis until the next flush
        self._tokens[lease.key_id] = self._tokens.get(lease.key_id, 0) + tokens
        if self._flush_timer is None:
            self._flush_timer = asyncio.get_running_loop().call_later(FLUSH_EVERY, self._flush)

    def add_spent(self, key_id: int, cost: float) -> None:
        self._local.add_spent(key_id, cost)
        if cost > 0:
            self._unsynced[key_id] = self._unsynced.get(key_id, 0.0) + cost

    def spent(self, key_id: int) -> float:
        return self._local.spent(key_id)

    def set_spent(self, key_id: int, cost: float) -> None:
        self._local.set_spent(key_id, cost)
        self._unsynced.pop(key_id, None)
        name = self._name(key_id, "spent")
        self._spawn(self._call(lambda: self._link.redis.set(name, repr(cost))))

    async def seed(self, spent: Mapping[int, float]) -> None:
        """Start every key's budget from the lifetime cost the database holds. Redis keeps the
        higher value: it also holds what other instances settled and have not flushed yet."""
        for key_id, cost in spent.items():
            self._local.set_spent(key_id, cost)
        if not spent:
            return
        pipe = self._link.redis.pipeline(transaction=False)  # one key per script: Cluster-safe
        for key_id, cost in spent.items():
            await self._seed(keys=[self._name(key_id, "spent")], args=[repr(cost)], client=pipe)
        if await self._call(pipe.execute) is _AWAY:
            self._fell_back()

    async def drain(self) -> None:
        """Wait for pending counter updates (graceful shutdown)."""
        if self._renewer is not None:
            self._renewer.cancel()
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _flush(self) -> None:
        """Add the batched tokens and costs: one settle per key, no lease to give back."""
        self._flush_timer = None
        owed, self._tokens = self._tokens, {}
        for key_id, tokens in owed.items():
            self._spawn(self._settle_remote(key_id, "", tokens, 0.0))

    async def _settle_remote(self, key_id: int, token: str, tokens: int, cost: float) -> None:
        owed = cost + self._unsynced.pop(key_id, 0.0)
        keys = self._keys(key_id)
        args: list[str | int | float] = [token, tokens, repr(owed), self._window]
        args.append(repr(self._local.spent(key_id) - owed))  # the script adds owed on top
        spent = await self._call(lambda: self._settle([*keys[1:4], keys[4]], args))
        if spent is _AWAY:
            self._unsynced[key_id] = self._unsynced.get(key_id, 0.0) + owed
            self._fell_back()
            return
        if spent is not None:
            self._local.set_spent(key_id, float(_text(spent)))

    def _synced_spent(self, key_id: int) -> float:
        """The local spent without the costs still owed to Redis (they are added when settled)."""
        return self._local.spent(key_id) - self._unsynced.get(key_id, 0.0)

    def _ensure_renewer(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(self._renew_forever())

    async def _renew_forever(self) -> None:
        every = min(RENEW_EVERY, self._ttl / 3)
        while self._live:
            await asyncio.sleep(every)
            for token, key_id in list(self._live.items()):
                await self._renew_one(token, key_id)

    async def _renew_one(self, token: str, key_id: int) -> None:
        keys, args = self._keys(key_id)[2:4], [token, str(self._ttl)]
        if await self._call(lambda: self._renew(keys, args)) is _AWAY:
            self._fell_back()

    async def _call(self, make: Callable[[], Awaitable[Any]], limit: float = SLOW_TIMEOUT) -> Any:
        """`make()` through the link (its timeout, its fallback state), or `_AWAY`."""
        return await self._link.call(make, _AWAY, limit)

    def _keys(self, key_id: int) -> list[Arg]:
        """The key's five names, encoded once: they go with every request."""
        names = self._names.get(key_id)
        if names is None:
            kinds = ("rpm", "tpm", "conc", "held", "spent")
            names = self._names[key_id] = [
                self._link.bulk(self._name(key_id, kind)) for kind in kinds
            ]
        return names

    def _limits(self, key: ApiKey) -> tuple[Arg, ...]:
        """The acquire script's first four arguments, encoded once per key and limits."""
        found = self._encoded_limits.get(key.id)
        if found is None or found[0] is not key:  # a new catalog brings new ApiKey objects
            limits = (key.max_concurrency, key.max_rpm, key.max_tpm, key.max_cost)
            found = self._encoded_limits[key.id] = (key, tuple(self._link.bulk(v) for v in limits))
        return found[1]

    def _name(self, key_id: int, kind: str) -> str:
        return f"{self._prefix}{{k{key_id}}}:{kind}"

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _fell_back(self) -> None:
        now = self._clock.monotonic()
        if now - self._last_warning >= WARN_EVERY:
            self._last_warning = now
            log.warning("redis unavailable: key limits are enforced per process until it is back")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _raise_for(verdict: int, key: ApiKey, value: str) -> None:
    if verdict == 0:
        return
    if verdict == 1:
        raise Forbidden(SPENT)
    wait = float(max(1, math.ceil(float(value))))
    what = {
        2: f"at most {key.max_rpm} requests per minute",
        3: f"at most {key.max_tpm} tokens per minute",
        4: f"at most {key.max_concurrency} concurrent requests",
    }[verdict]
    raise RateLimited(f"API key rate limit reached: {what}", retry_after=wait)
