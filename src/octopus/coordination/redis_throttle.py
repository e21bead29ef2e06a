"""LoginThrottles on Redis: one attempt budget per address and per username for the whole fleet.

One Lua script on Redis time checks both records and, when neither must wait, counts the attempt
in both: parallel guesses at several workers or instances see each other. A record is a hash
`{prefix}login:<kind>:<digest>` (failures, not-before) that expires `lock_seconds` after its last
wait ends, so quiet addresses are forgotten. Each call is bounded (1 s: a login is not the relay's
hot path); while Redis is away the process counts locally and says so once a minute.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from typing import Any

from octopus.coordination.link import SLOW_TIMEOUT, RedisLink
from octopus.core.throttle import LocalThrottles, ThrottlePolicy

log = logging.getLogger("octopus.auth")
_AWAY: Any = object()
WARN_EVERY = 60.0

# KEYS: one record per throttle   ARGV: free, base, lock_after, lock_seconds for each, in order
_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local wait = 0
for i = 1, #KEYS do
  local not_before = tonumber(redis.call('HGET', KEYS[i], 'nb') or '0')
  if not_before - now > wait then wait = not_before - now end
end
if wait > 0 then return tostring(wait) end
for i = 1, #KEYS do
  local a = (i - 1) * 4
  local free, base = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local lock_after, lock = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local n = redis.call('HINCRBY', KEYS[i], 'n', 1)
  local w = 0
  if n >= lock_after then w = lock elseif n > free then w = base * 2 ^ (n - free - 1) end
  w = math.min(w, lock)
  redis.call('HSET', KEYS[i], 'nb', string.format('%.6f', now + w))
  redis.call('PEXPIRE', KEYS[i], math.ceil((w + lock) * 1000))
end
return '0'
"""


class RedisThrottles:
    """Implements `octopus.core.throttle.LoginThrottles` for every process sharing one Redis."""

    def __init__(self, link: RedisLink, local: LocalThrottles) -> None:
        self._link = link
        self._local = local
        self._script = link.redis.register_script(_ADMIT)
        self._args = [value for policy in local.policies for value in _numbers(policy)]
        self._last_warning = -math.inf

    async def admit(self, address: str, username: str) -> float:
        keys = self._keys(address, username)
        answer = await self._link.call(
            lambda: self._script(keys=keys, args=self._args), _AWAY, SLOW_TIMEOUT
        )
        if answer is _AWAY:
            self._warn()
            return await self._local.admit(address, username)
        return float(answer.decode() if isinstance(answer, bytes) else answer)

    async def succeeded(self, address: str, username: str) -> None:
        await self._local.succeeded(address, username)
        keys = self._keys(address, username)
        await self._link.call(lambda: self._link.redis.delete(*keys), 0, SLOW_TIMEOUT)

    def _keys(self, address: str, username: str) -> list[str]:
        # digests: a bounded key whatever a client sends as its name
        return [
            self._link.key("login", "addr", _digest(address)),
            self._link.key("login", "user", _digest(username)),
        ]

    def _warn(self) -> None:
        now = time.monotonic()
        if now - self._last_warning >= WARN_EVERY:
            self._last_warning = now
            log.warning(
                "redis unavailable: login attempts are counted per process until it is back"
            )


def _numbers(policy: ThrottlePolicy) -> list[float]:
    return [policy.free_failures, policy.base_delay, policy.lock_after, policy.lock_seconds]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]
