"""One truth for configuration: the DB version, an invalidation message, and a polling backstop.

Every admin write calls `changed()`: the DB version goes up by one, this process reloads, and
the new version is published. Every process reloads when a message announces a newer version
(within the pub/sub latency), or when its poll (every `POLL_SECONDS`) reads a newer version in
the DB: a lost message or an absent Redis delays a change by at most one poll plus one reload.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from octopus.store.config_version import bump_version, read_version
from octopus.store.database import Sessions

log = logging.getLogger("octopus.config")
POLL_SECONDS = 2.0
CHANNEL = "config"
Reload = Callable[[], Awaitable[None]]


class ConfigBus(Protocol):
    """Where a new configuration version is announced to every process (Redis pub/sub)."""

    @property
    def mode(self) -> str:
        """ "redis", or "local-fallback" while Redis is away."""
        ...

    def publish(self, name: str, data: bytes) -> None: ...
    def subscribe(self, name: str, handler: Callable[[bytes], None]) -> None: ...
    def on_resync(self, hook: Callable[[], Awaitable[None]]) -> None: ...


class ConfigSync:
    def __init__(
        self,
        sessions: Sessions,
        reload: Reload,
        bus: ConfigBus | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._reload = reload
        self._bus = bus
        self._poll_seconds = poll_seconds
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._pending: asyncio.Task[None] | None = None
        self.version = 0  # the DB version this process's catalog reflects
        self._wanted = 0  # the newest version announced on the bus
        if bus is not None:
            bus.subscribe(CHANNEL, self._heard)
            bus.on_resync(self.catch_up)

    async def start(self) -> None:
        """At start-up, after the first load: remember the version, then poll."""
        async with self._sessions() as session:
            self.version = await read_version(session)
        self._task = asyncio.create_task(self._poll(), name="config-poll")

    async def stop(self) -> None:
        for task in (self._task, self._pending):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def changed(self) -> int:
        """After an admin write here: bump the version, reload, tell the others."""
        async with self._sessions() as session:
            version = await bump_version(session)
        await self._reload_to(version)
        if self._bus is not None:
            self._bus.publish(CHANNEL, str(version).encode())
        return version

    async def catch_up(self) -> None:
        """Reload when the DB holds a newer version than this process has loaded."""
        async with self._sessions() as session:
            version = await read_version(session)
        if version != self.version:
            await self._reload_to(version, force=True)

    def _heard(self, data: bytes) -> None:
        try:
            self._wanted = max(self._wanted, int(data))
        except ValueError:
            return
        if self._wanted > self.version and (self._pending is None or self._pending.done()):
            self._pending = asyncio.get_running_loop().create_task(self._follow())

    async def _follow(self) -> None:
        """Catch up until the announced version is loaded (the poll covers a lagging read)."""
        while self._wanted > self.version:
            before = self.version
            await self.catch_up()
            if self.version == before:
                return

    async def _reload_to(self, version: int, *, force: bool = False) -> None:
        async with self._lock:  # one reload at a time; a slower older one never wins
            if version <= self.version and not force:
                return
            await self._reload()
            self.version = version

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._poll_seconds)
            try:
                await self.catch_up()
            except Exception as exc:  # the DB being away must not end the backstop
                log.warning("configuration poll failed: %s", type(exc).__name__)
