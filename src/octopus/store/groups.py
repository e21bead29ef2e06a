"""Groups (public model names) and their items (channel + upstream model members)."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from octopus.store.channels import split_models
from octopus.store.errors import Duplicate, Invalid, NotFound
from octopus.store.tables import Channel, Group, GroupItem


@dataclass
class StoredGroup:
    row: Group
    items: list[GroupItem] = field(default_factory=list)


@dataclass(frozen=True)
class ItemSpec:
    channel_id: int
    model_name: str
    priority: int = 0
    weight: int = 1


@dataclass(frozen=True)
class ItemChange:
    id: int
    priority: int
    weight: int | None = None


@dataclass
class GroupChange:
    """An update: scalar fields present in `values`, then deletions, changes and additions."""

    values: dict[str, Any] = field(default_factory=dict)
    add: list[ItemSpec] = field(default_factory=list)
    change: list[ItemChange] = field(default_factory=list)
    remove: list[int] = field(default_factory=list)
    replace: list[ItemSpec] | None = None


async def list_groups(session: AsyncSession) -> list[StoredGroup]:
    rows = (await session.execute(select(Group).order_by(Group.id))).scalars().all()
    items = (
        (await session.execute(select(GroupItem).order_by(GroupItem.priority, GroupItem.id)))
        .scalars()
        .all()
    )
    by_group = {row.id: StoredGroup(row) for row in rows}
    for item in items:
        if item.group_id in by_group:
            by_group[item.group_id].items.append(item)
    return list(by_group.values())


async def get_group(session: AsyncSession, group_id: int) -> StoredGroup:
    row = await session.get(Group, group_id)
    if row is None:
        raise NotFound(f"group {group_id} not found")
    stmt = (
        select(GroupItem)
        .where(GroupItem.group_id == group_id)
        .order_by(GroupItem.priority, GroupItem.id)
    )
    return StoredGroup(row, list((await session.execute(stmt)).scalars().all()))


async def create_group(
    session: AsyncSession, values: dict[str, Any], items: Sequence[ItemSpec]
) -> StoredGroup:
    """Insert a group (`name`, `mode`, `relay_config`) with its items, validated together."""
    await _check_name(session, values["name"], None)
    await _check_items(session, items)
    _check_unique(items)
    row = Group(**values, active_item_id=0, created_at=int(time.time()))
    session.add(row)
    await _write(session, values["name"])
    for spec in items:
        session.add(_new_item(row.id, spec))
    await _write(session, values["name"], commit=True)
    return await get_group(session, row.id)


async def update_group(session: AsyncSession, group_id: int, change: GroupChange) -> StoredGroup:
    stored = await get_group(session, group_id)
    if "name" in change.values:
        await _check_name(session, change.values["name"], group_id)
    for name, value in change.values.items():
        setattr(stored.row, name, value)
    if change.replace is not None:
        await _replace_items(session, stored, change.replace)
    else:
        await _edit_items(session, stored, change)
    await _write(session, stored.row.name, commit=True)
    return await get_group(session, group_id)


async def _edit_items(session: AsyncSession, stored: StoredGroup, change: GroupChange) -> None:
    owned = {item.id: item for item in stored.items}
    for item_id in [*change.remove, *(c.id for c in change.change)]:
        if item_id not in owned:
            raise Invalid(f"item {item_id} does not belong to group {stored.row.id}")
    for item_id in change.remove:
        await session.delete(owned.pop(item_id))
    for edit in change.change:
        owned[edit.id].priority = edit.priority
        if edit.weight is not None:
            owned[edit.id].weight = edit.weight
    await _check_items(session, change.add)
    remaining = [ItemSpec(i.channel_id, i.model_name) for i in owned.values()]
    _check_unique([*remaining, *change.add])
    await _write(session, stored.row.name)
    for spec in change.add:
        session.add(_new_item(stored.row.id, spec))
    if stored.row.active_item_id in change.remove:
        stored.row.active_item_id = 0


async def _replace_items(
    session: AsyncSession, stored: StoredGroup, specs: Sequence[ItemSpec]
) -> None:
    """Make the members exactly `specs`; a member with a stored item's channel and model keeps
    that item's id, so its statistics and the manual choice survive."""
    await _check_items(session, specs)
    _check_unique(specs)
    # matched by (channel, model) only: a kept item never changes its pair, so the unique
    # index cannot trip over the order in which updates, deletes and inserts are flushed
    by_pair = {(item.channel_id, item.model_name): item for item in stored.items}
    kept: set[int] = set()
    new: list[ItemSpec] = []
    for spec in specs:
        item = by_pair.get((spec.channel_id, spec.model_name))
        if item is None:
            new.append(spec)
            continue
        item.priority, item.weight = spec.priority, spec.weight
        kept.add(item.id)
    for item in stored.items:
        if item.id not in kept:
            await session.delete(item)
    await _write(session, stored.row.name)
    for spec in new:
        session.add(_new_item(stored.row.id, spec))
    if stored.row.active_item_id not in kept:
        stored.row.active_item_id = 0


async def set_active_item(session: AsyncSession, group_id: int, item_id: int) -> StoredGroup:
    """Choose the manual member (0 clears it)."""
    stored = await get_group(session, group_id)
    if item_id and item_id not in {item.id for item in stored.items}:
        raise Invalid(f"item {item_id} does not belong to group {group_id}")
    stored.row.active_item_id = item_id
    await session.commit()
    return stored


async def delete_group(session: AsyncSession, group_id: int) -> None:
    if await session.get(Group, group_id) is None:
        raise NotFound(f"group {group_id} not found")
    await session.execute(delete(GroupItem).where(GroupItem.group_id == group_id))
    await session.execute(delete(Group).where(Group.id == group_id))
    await session.commit()


async def candidates(
    session: AsyncSession, name: str, pattern: re.Pattern[str] | None = None
) -> list[tuple[int, str, str]]:
    """(channel id, channel name, model) for every channel model `pattern` finds (Go v0.9's
    group match_regex), else every one containing `name`, any case."""
    needle = name.strip().lower()

    def wanted(model: str) -> bool:
        if pattern is not None:
            return pattern.search(model) is not None
        return bool(needle) and needle in model.lower()

    rows = (await session.execute(select(Channel).order_by(Channel.id))).scalars().all()
    found: list[tuple[int, str, str]] = []
    for row in rows:
        found += [(row.id, row.name, m) for m in split_models([row.model, row.custom_model])]
    return [entry for entry in found if wanted(entry[2])]


async def match_regex_of(session: AsyncSession, name: str) -> str | None:
    stmt = select(Group.match_regex).where(Group.name == name.strip())
    return (await session.execute(stmt)).scalar_one_or_none()


async def _check_name(session: AsyncSession, name: str, group_id: int | None) -> None:
    found = (await session.execute(select(Group.id).where(Group.name == name))).scalar_one_or_none()
    if found is not None and found != group_id:
        raise Duplicate(f"a group named {name!r} already exists")


async def _check_items(session: AsyncSession, specs: Sequence[ItemSpec]) -> None:
    """Each item's channel exists and offers the model (in `model` or `custom_model`)."""
    ids = {spec.channel_id for spec in specs}
    if not ids:
        return
    rows = (await session.execute(select(Channel).where(Channel.id.in_(ids)))).scalars().all()
    models = {row.id: set(split_models([row.model, row.custom_model])) for row in rows}
    for spec in specs:
        if spec.channel_id not in models:
            raise Invalid(f"channel {spec.channel_id} not found")
        if spec.model_name not in models[spec.channel_id]:
            raise Invalid(f"channel {spec.channel_id} has no model {spec.model_name!r}")


def _check_unique(specs: Sequence[ItemSpec]) -> None:
    seen: set[tuple[int, str]] = set()
    for spec in specs:
        pair = (spec.channel_id, spec.model_name)
        if pair in seen:
            raise Duplicate(f"channel {spec.channel_id} model {spec.model_name!r} is listed twice")
        seen.add(pair)


def _new_item(group_id: int, spec: ItemSpec) -> GroupItem:
    return GroupItem(
        group_id=group_id,
        channel_id=spec.channel_id,
        model_name=spec.model_name,
        priority=spec.priority,
        weight=spec.weight,
    )


async def _write(session: AsyncSession, name: str, *, commit: bool = False) -> None:
    try:
        await (session.commit() if commit else session.flush())
    except IntegrityError:
        await session.rollback()
        raise Duplicate(f"group {name!r}: a name or member is already taken") from None
