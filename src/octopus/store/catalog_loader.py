"""Build the routing Catalog from the database, hold the current snapshot, persist key health."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from octopus.protocols import WireFormat
from octopus.protocols.channel_types import (
    GENERIC,
    PATH_FIELDS,
    channel_wire,
    generic_endpoint,
    protocols_in,
)
from octopus.records.group_mode import GroupMode
from octopus.routing.catalog import (
    ApiKey,
    Catalog,
    Channel,
    ChannelKey,
    Group,
    GroupMember,
    RelayConfig,
)
from octopus.store import tables as t
from octopus.store.channels import StoredChannel, list_channels, set_key_state, split_models
from octopus.store.groups import StoredGroup, list_groups

log = logging.getLogger("octopus.catalog")
_CONFIG_FIELDS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(RelayConfig)}


async def load_catalog(session: AsyncSession, proxy_url: str | None, version: int = 0) -> Catalog:
    """One consistent snapshot; rows the relay could not use (unknown type or mode) are skipped."""
    channels = [_channel(c, proxy_url) for c in await list_channels(session)]
    groups = [_group(g) for g in await list_groups(session)]
    keys = (await session.execute(select(t.ApiKey))).scalars().all()
    return Catalog(
        channels={c.id: c for c in channels if c is not None},
        groups={g.name: g for g in groups if g is not None},
        keys={row.key_hash: _api_key(row) for row in keys},
        version=version,
    )


def resolve_proxy(proxy: bool, channel_proxy: str | None, global_proxy: str | None) -> str | None:
    """`proxy` off: direct; on: the channel's own proxy, else the global `proxy_url`."""
    if not proxy:
        return None
    return channel_proxy or global_proxy or None


def _channel(stored: StoredChannel, proxy_url: str | None) -> Channel | None:
    row = stored.row
    try:
        kind, base_url = channel_wire(row.type, row.base_url)
    except ValueError:
        log.warning("channel %s has an unknown type %r; it is not routed", row.id, row.type)
        return None
    return Channel(
        id=row.id,
        name=row.name,
        type=kind,
        base_url=base_url,
        keys=tuple(ChannelKey(k.id, k.key, k.enabled) for k in stored.keys),
        models=frozenset(split_models([row.model, row.custom_model])),
        enabled=row.enabled,
        proxy_url=resolve_proxy(row.proxy, row.channel_proxy, proxy_url),
        custom_headers=tuple(
            (h["header_key"], h["header_value"])
            for h in row.custom_header or []
            if isinstance(h, dict) and h.get("header_key")
        ),
        param_override=_overrides(row.param_override),
        **_generic(stored),
    )


def _generic(stored: StoredChannel) -> dict[str, Any]:
    """A generic channel's endpoints per protocol and its grants as model -> protocol -> key ids."""
    row = stored.row
    if row.dialect != GENERIC:
        return {}
    endpoints: dict[WireFormat, str] = {}
    for kind in PATH_FIELDS:
        path = (row.protocol_paths or {}).get(kind.value)
        if path:
            endpoints[kind] = generic_endpoint(row.base_url, kind, path)
    if not row.grants:
        return {"endpoints": endpoints}
    ids = {k.name: k.id for k in stored.keys if k.name}
    grants: dict[str, dict[WireFormat, set[int]]] = {}
    for grant in row.grants:
        key_id = ids.get(str(grant.get("key_name", "")))
        if key_id is None:
            continue  # a grant naming a key that is gone grants nothing
        per_model = grants.setdefault(str(grant.get("model_name", "")), {})
        for kind in protocols_in(int(grant.get("protocols", 0))):
            per_model.setdefault(kind, set()).add(key_id)
    frozen = {m: {k: frozenset(v) for k, v in g.items()} for m, g in grants.items()}
    return {"endpoints": endpoints, "grants": frozen}


def _overrides(text: str | None) -> Mapping[str, bytes]:
    if not text:
        return {}
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(doc, dict):
        return {}
    return {str(k): orjson.dumps(v) for k, v in doc.items() if k not in ("model", "stream")}


def _group(stored: StoredGroup) -> Group | None:
    row = stored.row
    try:
        mode = GroupMode(row.mode)
    except ValueError:
        log.warning("group %s has an unknown mode %r; it is not routed", row.id, row.mode)
        return None
    members = tuple(
        GroupMember(i.id, i.channel_id, i.model_name, i.priority, max(1, i.weight))
        for i in stored.items
    )
    return Group(
        row.id, row.name, mode, members, row.active_item_id, relay_config(row.relay_config)
    )


def relay_config(raw: Mapping[str, Any] | None) -> RelayConfig:
    """The stored relay_config; anything missing or unreadable takes the default."""
    values: dict[str, Any] = {}
    for name, default in _CONFIG_FIELDS.items():
        value = (raw or {}).get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            values[name] = int(value) if isinstance(default, int) else float(value)
    return RelayConfig(**values)


def _api_key(row: t.ApiKey) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        enabled=row.enabled,
        expire_at=row.expire_at,
        max_cost=row.max_cost,
        supported_models=frozenset(split_models(row.supported_models)),
        max_rpm=row.max_rpm,
        max_tpm=row.max_tpm,
        max_concurrency=row.max_concurrency,
    )


class CatalogHolder:
    """The current snapshot (`current`, read by the relay) and `reload()` after admin writes."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], proxy_url: Callable[[], str | None]
    ) -> None:
        self._sessions = sessions
        self._proxy_url = proxy_url
        self._lock = asyncio.Lock()
        self._version = 0
        self.current = Catalog()
        self.loaded = False  # True once the first snapshot came from the database

    def get(self) -> Catalog:
        return self.current

    async def reload(self) -> Catalog:
        # serialised so that a slow older load can never replace a newer snapshot
        async with self._lock:
            async with self._sessions() as session:
                catalog = await load_catalog(session, self._proxy_url(), self._version + 1)
            self._version += 1
            self.current = catalog
            self.loaded = True
            return catalog


class KeyHealthRecorder:
    """The relay's ChannelEvents: persists dead keys in the background, then reloads the catalog."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], changed: Callable[[], Awaitable[object]]
    ) -> None:
        self._sessions = sessions
        self._changed = changed  # bumps the shared configuration version and reloads
        self._tasks: set[asyncio.Task[None]] = set()

    def key_disabled(self, channel_id: int, key_id: int, reason: str) -> None:
        task = asyncio.get_running_loop().create_task(self._disable(channel_id, key_id, reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def key_resting(self, channel_id: int, key_id: int, seconds: float) -> None:
        """A rate-limited key only rests in memory; nothing to persist."""

    async def _disable(self, channel_id: int, key_id: int, reason: str) -> None:
        try:
            async with self._sessions() as session:
                found = await set_key_state(
                    session, channel_id, key_id, enabled=False, reason=reason
                )
            if found:
                log.warning("channel %s key %s disabled: %s", channel_id, key_id, reason[:200])
                await self._changed()
        except Exception:
            log.exception("could not persist a disabled channel key")

    async def drain(self) -> None:
        """Wait for pending writes (shutdown)."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
