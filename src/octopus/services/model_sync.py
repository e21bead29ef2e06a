"""Channel model auto-sync: every `sync_llm_interval` hours (and at start-up) refresh the model
list of each channel with `auto_sync`; group items of vanished models go with them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from octopus.core.clock import Clock
from octopus.errors import GatewayError
from octopus.live_settings import LiveSettings
from octopus.protocols.channel_types import channel_wire
from octopus.services.scheduler import Job
from octopus.store import channels as store
from octopus.store.catalog_loader import resolve_proxy
from octopus.store.channels import StoredChannel
from octopus.store.database import Sessions
from octopus.upstream.models import list_models
from octopus.upstream.transport import Transport

log = logging.getLogger("octopus.sync")
SYNC_DEADLINE = 30 * 60.0
HOUR = 3600.0


class SyncBusy(Exception):
    def __str__(self) -> str:
        return "model sync already running"


class ModelSync:
    """Runs the sync on a schedule read live from LiveSettings, or on demand (`run`)."""

    def __init__(
        self,
        sessions: Sessions,
        changed: Callable[[], Awaitable[object]],
        transport: Transport,
        live: LiveSettings,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self._changed = changed  # bumps the shared configuration version and reloads
        self._transport = transport
        self._live = live
        self._clock = clock
        self._lock = asyncio.Lock()
        self.last_sync_time = clock.time()

    def last_sync_rfc3339(self) -> str:
        stamp = datetime.fromtimestamp(self.last_sync_time, UTC).isoformat(timespec="seconds")
        return stamp.replace("+00:00", "Z")

    async def run(self) -> list[str]:
        """Sync every auto-sync channel now; the error of each failed channel (never a key)."""
        if self._lock.locked():
            raise SyncBusy
        async with self._lock:
            try:
                async with asyncio.timeout(SYNC_DEADLINE):
                    return await self._sync_all()
            finally:
                self.last_sync_time = self._clock.time()

    async def _sync_all(self) -> list[str]:
        async with self._sessions() as session:
            channels = [c for c in await store.list_channels(session) if c.row.auto_sync]
        errors: list[str] = []
        changed = False
        for channel in channels:
            try:
                changed |= await self._sync_one(channel)
            except GatewayError as exc:
                errors.append(f"channel {channel.row.name}: {exc.message}")
        if changed:
            await self._changed()
        for error in errors:
            log.warning("model sync: %s", error)
        return errors

    async def _sync_one(self, channel: StoredChannel) -> bool:
        row = channel.row
        key = next((k.key for k in channel.keys if k.enabled and k.key), None)
        if key is None:
            raise GatewayError("no enabled key to list models with")
        try:
            kind, base_url = channel_wire(row.type, row.base_url)
        except ValueError:
            raise GatewayError(f"unknown channel type {row.type!r}") from None
        models = await list_models(
            self._transport,
            kind,
            base_url,
            key,
            headers=[(h["header_key"], h["header_value"]) for h in row.custom_header or []],
            proxy_url=resolve_proxy(row.proxy, row.channel_proxy, self._live.proxy_url),
            match_regex=row.match_regex,
        )
        async with self._sessions() as session:
            return await store.set_channel_models(session, row.id, models)

    def job(self) -> Job:
        """Sync at start-up, then every `sync_llm_interval` hours (0: only on demand)."""
        return Job(
            "model-sync",
            self._run_quietly,
            lambda: self._live.sync_llm_interval * HOUR,
            frozenset({"sync_llm_interval"}),
        )

    async def _run_quietly(self) -> None:
        try:
            await self.run()
        except SyncBusy:
            pass
        except Exception:
            log.exception("model sync failed")
