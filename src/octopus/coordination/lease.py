"""JobLease on Redis: one instance of the fleet runs each background job per period.

`acquire` sets `{prefix}job:<name>` only if absent, expiring just before the next period, so the
first instance to ask in a period runs the job and the others skip it. While Redis is away every
instance runs its jobs (they are idempotent: a refresh, a sync, a retention sweep) and says so.
"""

from __future__ import annotations

import logging
import os
import socket

from octopus.coordination.link import SLOW_TIMEOUT, RedisLink

log = logging.getLogger("octopus.coordination")
_AWAY: object = object()
SHORTER = 0.9  # the grant ends a little before the period: the owner's next run is not refused


class RedisLease:
    def __init__(self, link: RedisLink) -> None:
        self._link = link
        self._owner = f"{socket.gethostname()}:{os.getpid()}"

    async def acquire(self, job: str, ttl: float) -> bool:
        key = self._link.key("job", job)
        millis = max(1000, int(ttl * SHORTER * 1000))
        granted = await self._link.call(
            lambda: self._link.redis.set(key, self._owner, nx=True, px=millis),
            _AWAY,
            SLOW_TIMEOUT,
        )
        if granted is _AWAY:
            log.info("redis away: running job %s here", job)
            return True
        return bool(granted)  # SET NX answers None when another instance holds it
