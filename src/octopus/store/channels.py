"""Channels and their keys: queries and writes; model lists are kept normalised here."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from octopus.store.errors import Duplicate, Invalid, NotFound
from octopus.store.tables import Channel, ChannelKey, Group, GroupItem

# columns an admin write may set directly (keys and model lists have their own rules)
CHANNEL_FIELDS = frozenset(
    {
        "name",
        "type",
        "enabled",
        "base_url",
        "proxy",
        "auto_sync",
        "custom_header",
        "param_override",
        "channel_proxy",
        "match_regex",
        "dialect",
        "protocol_paths",
        "grants",
    }
)


@dataclass
class StoredChannel:
    row: Channel
    keys: list[ChannelKey] = field(default_factory=list)

    @property
    def models(self) -> set[str]:
        return set(split_models(self.row.model)) | set(split_models(self.row.custom_model))


@dataclass(frozen=True)
class KeySpec:
    """One key in an admin write: `id` names a stored key; `key=None` keeps its secret."""

    key: str | None
    id: int | None = None
    enabled: bool | None = None
    remark: str | None = None
    name: str | None = None  # Go v0.13 named keys; grants refer to keys by name


def split_models(value: str | Iterable[str] | None) -> list[str]:
    """Comma-separated text (or a list) → trimmed, non-empty, de-duplicated names in order."""
    if value is None:
        return []
    parts = value.split(",") if isinstance(value, str) else [p for v in value for p in v.split(",")]
    return list(dict.fromkeys(p.strip() for p in parts if p.strip()))


def normalise_models(model: Any, custom_model: Any) -> tuple[str, str]:
    """The stored `model` and `custom_model`: custom names win and are removed from `model`."""
    custom = split_models(custom_model)
    taken = set(custom)
    return ",".join(m for m in split_models(model) if m not in taken), ",".join(custom)


async def list_channels(session: AsyncSession) -> list[StoredChannel]:
    rows = (await session.execute(select(Channel).order_by(Channel.id))).scalars().all()
    keys = (await session.execute(select(ChannelKey).order_by(ChannelKey.id))).scalars().all()
    by_channel: dict[int, StoredChannel] = {row.id: StoredChannel(row) for row in rows}
    for key in keys:
        if key.channel_id in by_channel:
            by_channel[key.channel_id].keys.append(key)
    return list(by_channel.values())


async def get_channel(session: AsyncSession, channel_id: int) -> StoredChannel:
    row = await session.get(Channel, channel_id)
    if row is None:
        raise NotFound(f"channel {channel_id} not found")
    stmt = select(ChannelKey).where(ChannelKey.channel_id == channel_id).order_by(ChannelKey.id)
    return StoredChannel(row, list((await session.execute(stmt)).scalars().all()))


async def _check_name(session: AsyncSession, name: str, channel_id: int | None) -> None:
    stmt = select(Channel.id).where(Channel.name == name)
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is not None and found != channel_id:
        raise Duplicate(f"a channel named {name!r} already exists")


async def create_channel(
    session: AsyncSession, values: dict[str, Any], keys: Sequence[KeySpec]
) -> StoredChannel:
    """Insert a channel; `values` holds validated CHANNEL_FIELDS plus `model`/`custom_model`."""
    await _check_name(session, values["name"], None)
    model, custom = normalise_models(values.get("model"), values.get("custom_model"))
    row = Channel(
        **{k: v for k, v in values.items() if k in CHANNEL_FIELDS},
        model=model,
        custom_model=custom,
        created_at=int(time.time()),
    )
    session.add(row)
    await _flush(session, values["name"])
    stored = StoredChannel(row)
    await _apply_keys(session, stored, keys)
    await _commit(session, values["name"])
    return await get_channel(session, row.id)


async def update_channel(
    session: AsyncSession, channel_id: int, values: dict[str, Any], keys: Sequence[KeySpec] | None
) -> StoredChannel:
    """Change the given fields; a changed model list drops group items for vanished models."""
    stored = await get_channel(session, channel_id)
    row = stored.row
    if "name" in values:
        await _check_name(session, values["name"], channel_id)
    for name, value in values.items():
        if name in CHANNEL_FIELDS:
            setattr(row, name, value)
    if "model" in values or "custom_model" in values:
        row.model, row.custom_model = normalise_models(
            values.get("model", row.model), values.get("custom_model", row.custom_model)
        )
        await _drop_vanished_items(session, channel_id, stored.models)
    if keys is not None:
        await _apply_keys(session, stored, keys)
    await _commit(session, row.name)
    return await get_channel(session, channel_id)


async def _apply_keys(
    session: AsyncSession, stored: StoredChannel, specs: Sequence[KeySpec]
) -> None:
    """Make the channel's keys exactly `specs`: listed ids are kept, the rest removed."""
    existing = {key.id: key for key in stored.keys}
    by_secret = {key.key: key.id for key in stored.keys}
    kept: set[int] = set()
    for spec in specs:
        if spec.id is None and spec.key in by_secret and by_secret[spec.key] not in kept:
            # a key sent again in full is the stored one: it keeps its id and state
            spec = KeySpec(None, by_secret[spec.key], spec.enabled, spec.remark, spec.name)
        if spec.id is None:
            if not spec.key:
                raise Invalid("a new key needs its 'key' value")
            session.add(_new_key(stored.row.id, spec))
            continue
        key = existing.get(spec.id)
        if key is None:
            raise Invalid(f"key {spec.id} does not belong to channel {stored.row.id}")
        _change_key(key, spec)
        kept.add(spec.id)
    for key_id, key in existing.items():
        if key_id not in kept:
            await session.delete(key)


def _new_key(channel_id: int, spec: KeySpec) -> ChannelKey:
    return ChannelKey(
        channel_id=channel_id,
        key=spec.key or "",
        enabled=True if spec.enabled is None else spec.enabled,
        disabled_reason="",
        remark=spec.remark or "",
        name=spec.name or "",
    )


def _change_key(key: ChannelKey, spec: KeySpec) -> None:
    if spec.key:
        key.key = spec.key
    if spec.enabled is not None:
        if spec.enabled and not key.enabled:
            key.disabled_reason = ""
        key.enabled = spec.enabled
    if spec.remark is not None:
        key.remark = spec.remark
    if spec.name is not None:
        key.name = spec.name


async def _drop_vanished_items(session: AsyncSession, channel_id: int, models: set[str]) -> None:
    stmt = select(GroupItem.id).where(
        GroupItem.channel_id == channel_id, GroupItem.model_name.not_in(sorted(models))
    )
    await _delete_items(session, list((await session.execute(stmt)).scalars().all()))


async def _delete_items(session: AsyncSession, item_ids: list[int]) -> None:
    """Delete group items and clear any group's manual choice that pointed at one of them."""
    if not item_ids:
        return
    await session.execute(delete(GroupItem).where(GroupItem.id.in_(item_ids)))
    await session.execute(
        update(Group).where(Group.active_item_id.in_(item_ids)).values(active_item_id=0)
    )


async def copy_channel(session: AsyncSession, channel_id: int) -> StoredChannel:
    """A new channel with the same settings and keys, named "<name> (copy)", "(copy 2)", …"""
    source = await get_channel(session, channel_id)
    row = source.row
    values: dict[str, Any] = {name: getattr(row, name) for name in CHANNEL_FIELDS}
    values.update(name=await _free_copy_name(session, row.name))
    values.update(model=row.model, custom_model=row.custom_model)
    keys = [KeySpec(k.key, enabled=k.enabled, remark=k.remark, name=k.name) for k in source.keys]
    return await create_channel(session, values, keys)


async def _free_copy_name(session: AsyncSession, name: str) -> str:
    taken = set((await session.execute(select(Channel.name))).scalars().all())
    for number in range(1, 1000):
        suffix = " (copy)" if number == 1 else f" (copy {number})"
        candidate = name[: 191 - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
    raise Duplicate(f"no free name for another copy of {name!r}")


async def set_channel_enabled(session: AsyncSession, channel_id: int, enabled: bool) -> None:
    row = await session.get(Channel, channel_id)
    if row is None:
        raise NotFound(f"channel {channel_id} not found")
    row.enabled = enabled
    await session.commit()


async def delete_channel(session: AsyncSession, channel_id: int) -> None:
    """Remove a channel, its keys and every group item that uses it."""
    row = await session.get(Channel, channel_id)
    if row is None:
        raise NotFound(f"channel {channel_id} not found")
    stmt = select(GroupItem.id).where(GroupItem.channel_id == channel_id)
    await _delete_items(session, list((await session.execute(stmt)).scalars().all()))
    await session.execute(delete(ChannelKey).where(ChannelKey.channel_id == channel_id))
    await session.execute(delete(Channel).where(Channel.id == channel_id))
    await session.commit()


async def set_key_state(
    session: AsyncSession, channel_id: int, key_id: int, *, enabled: bool, reason: str = ""
) -> bool:
    """Enable or disable one key (the relay reports dead keys); False when it no longer exists."""
    stmt = (
        update(ChannelKey)
        .where(ChannelKey.id == key_id, ChannelKey.channel_id == channel_id)
        .values(enabled=enabled, disabled_reason="" if enabled else reason[:1000])
    )
    result = await session.execute(stmt)
    await session.commit()
    return bool(getattr(result, "rowcount", 0))


async def set_channel_models(session: AsyncSession, channel_id: int, models: Sequence[str]) -> bool:
    """Replace a channel's synced `model` list; True when it changed."""
    stored = await get_channel(session, channel_id)
    model, _ = normalise_models(models, stored.row.custom_model)
    if model == stored.row.model:
        return False
    await update_channel(session, channel_id, {"model": model}, None)
    return True


async def _flush(session: AsyncSession, name: str) -> None:
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise Duplicate(f"a channel named {name!r} already exists") from None


async def _commit(session: AsyncSession, name: str) -> None:
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Duplicate(f"a channel named {name!r} already exists") from None
