"""Backup: export every table (users excepted) as one JSON document, import one in a transaction.

The document is a superset of the reference's version-2 `DBDump` (readable by it, and its dumps
import here). Import semantics follow the reference: channels, groups, items and API keys keep
what is already stored (a row whose id or unique name exists is skipped and counted), prices
and settings are upserted, statistics replace the rows with the same key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from octopus.core.logs import scrub
from octopus.live_settings import SettingError, UnknownSetting, normalise
from octopus.pricing.model_match import Rates
from octopus.store import backup_stats
from octopus.store.backup_rows import Dump, DumpError
from octopus.store.channels import list_channels
from octopus.store.tables import ApiKey, Channel, ChannelKey, Group, GroupItem, LlmInfo, Setting

VERSION = 2
OCTOPUS_FORMAT = 1
BATCH = 1000
Reference = Callable[[str], Rates | None]


@dataclass
class ImportReport:
    rows_affected: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)  # the values written, to apply live

    def skip(self, table: str, count: int = 1) -> None:
        self.skipped[table] = self.skipped.get(table, 0) + count


def _iso(unix: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix))


async def export_dump(session: AsyncSession, *, include_stats: bool, now: float) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": VERSION,
        "octopus_format": OCTOPUS_FORMAT,
        "exported_at": _iso(now),
        "include_stats": include_stats,
        "channels": [_channel_json(c.row, c.keys) for c in await list_channels(session)],
        "groups": [_columns(g) for g in await _all(session, Group, Group.id)],
        "group_items": [_columns(i) for i in await _all(session, GroupItem, GroupItem.id)],
        "llm_infos": [_columns(p) for p in await _all(session, LlmInfo, LlmInfo.name)],
        "api_keys": [_columns(k) for k in await _all(session, ApiKey, ApiKey.id)],
        "settings": [
            {"key": s.key, "value": s.value} for s in await _all(session, Setting, Setting.key)
        ],
    }
    if include_stats:
        doc.update(await backup_stats.export_stats(session, now))
    return doc


async def _all(session: AsyncSession, table: Any, order: Any) -> Sequence[Any]:
    return (await session.execute(select(table).order_by(order))).scalars().all()


def _columns(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def _channel_json(row: Channel, keys: Sequence[ChannelKey]) -> dict[str, Any]:
    doc = _columns(row)
    # `key` is the reference's single credential; `keys` holds all of ours
    doc["key"] = keys[0].key if keys else ""
    doc["keys"] = [
        {
            "key": k.key,
            "enabled": k.enabled,
            "remark": k.remark,
            "disabled_reason": k.disabled_reason,
            "name": k.name,
        }
        for k in keys
    ]
    return doc


def checked_settings(values: dict[str, str], report: ImportReport) -> dict[str, str]:
    """Known keys, normalised; unknown (legacy) keys are skipped, invalid values refuse the file."""
    checked: dict[str, str] = {}
    for key, raw in values.items():
        try:
            checked[key] = normalise(key, raw)
        except UnknownSetting:
            report.skip("settings")
            report.notes.append(f"setting {key!r} is not used by this version and was skipped")
        except SettingError as exc:
            raise DumpError(f"settings.{key}: {exc}") from None
    return checked


async def import_dump(
    session: AsyncSession, dump: Dump, *, reference: Reference, exported_at: float
) -> ImportReport:
    """Write a parsed dump inside the caller's transaction; DumpError leaves nothing behind
    once the caller rolls back."""
    report = ImportReport()
    settings = checked_settings(dump.settings, report)
    channels = await _insert_new(session, Channel, dump.channels, report, unique="name")
    keys = [k for k in dump.channel_keys if k["channel_id"] in channels]
    report.rows_affected["channel_keys"] = await _insert(session, ChannelKey, keys)
    await _insert_new(session, Group, dump.groups, report, unique="name")
    await _import_items(session, dump, report)
    await _insert_new(session, ApiKey, dump.api_keys, report, unique="key_hash")
    report.rows_affected["llm_infos"] = await _upsert_prices(session, dump.llm_infos, reference)
    report.rows_affected["settings"] = await _upsert_settings(session, settings)
    report.settings = settings
    await _import_stats(session, dump, report, exported_at)
    await _advance_sequences(session)
    return report


async def _existing(session: AsyncSession, table: Any, column: str) -> tuple[set[int], set[Any]]:
    rows = (await session.execute(select(table.id, getattr(table, column)))).all()
    return {r[0] for r in rows}, {r[1] for r in rows}


async def _insert_new(
    session: AsyncSession,
    table: Any,
    rows: list[dict[str, Any]],
    report: ImportReport,
    *,
    unique: str,
) -> set[int]:
    """Insert the rows whose id and unique column are free; returns the inserted ids."""
    ids, taken = await _existing(session, table, unique)
    fresh = [r for r in rows if r["id"] not in ids and r[unique] not in taken]
    name = table.__tablename__
    if len(fresh) < len(rows):
        report.skip(name, len(rows) - len(fresh))
    report.rows_affected[name] = await _insert(session, table, fresh)
    return {r["id"] for r in fresh}


async def _insert(session: AsyncSession, table: Any, rows: Sequence[dict[str, Any]]) -> int:
    for start in range(0, len(rows), BATCH):
        await session.execute(insert(table), list(rows[start : start + BATCH]))
    return len(rows)


async def _import_items(session: AsyncSession, dump: Dump, report: ImportReport) -> None:
    channel_ids = set((await session.execute(select(Channel.id))).scalars())
    group_ids = set((await session.execute(select(Group.id))).scalars())
    in_dump = ({c["id"] for c in dump.channels}, {g["id"] for g in dump.groups})
    rows = (
        await session.execute(
            select(GroupItem.id, GroupItem.group_id, GroupItem.channel_id, GroupItem.model_name)
        )
    ).all()
    ids = {r[0] for r in rows}
    pairs = {(r[1], r[2], r[3]) for r in rows}
    fresh = []
    for index, item in enumerate(dump.group_items):
        _check_reference(index, item, channel_ids | in_dump[0], group_ids | in_dump[1])
        triple = (item["group_id"], item["channel_id"], item["model_name"])
        usable = item["channel_id"] in channel_ids and item["group_id"] in group_ids
        if not usable or item["id"] in ids or triple in pairs:
            report.skip("group_items")
            continue
        pairs.add(triple)
        fresh.append(item)
    report.rows_affected["group_items"] = await _insert(session, GroupItem, fresh)


def _check_reference(
    index: int, item: dict[str, Any], channels: set[int], groups: set[int]
) -> None:
    if item["channel_id"] not in channels:
        raise DumpError(
            f"group_items[{index}].channel_id: channel {item['channel_id']} does not exist"
        )
    if item["group_id"] not in groups:
        raise DumpError(f"group_items[{index}].group_id: group {item['group_id']} does not exist")


async def _upsert_prices(
    session: AsyncSession, rows: list[dict[str, Any]], reference: Reference
) -> int:
    existing = {info.name: info for info in await _all(session, LlmInfo, LlmInfo.name)}
    fresh = []
    for row in rows:
        values = {**row, "manual": _manual(row, reference)}
        info = existing.get(row["name"])
        if info is None:
            fresh.append(values)
            continue
        for name, value in values.items():
            setattr(info, name, value)
    await session.flush()
    await _insert(session, LlmInfo, fresh)
    return len(rows)


def _manual(row: dict[str, Any], reference: Reference) -> bool:
    """A reference price row is kept as a hand-set price unless it is all zeros ("not set")
    or equal to what models.dev says (then later refreshes may update it)."""
    if row["manual"] is not None:
        return bool(row["manual"])
    rates = Rates(row["input"], row["output"], row["cache_read"], row["cache_write"])
    return not rates.is_zero and rates != reference(row["name"])


async def _upsert_settings(session: AsyncSession, values: dict[str, str]) -> int:
    for key, value in values.items():
        row = await session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=value))
        else:
            row.value = value
    await session.flush()
    return len(values)


async def _import_stats(
    session: AsyncSession, dump: Dump, report: ImportReport, exported_at: float
) -> None:
    if not dump.stats:
        return
    if "stats_hourly_rows" in dump.stats:
        rows = backup_stats.exact_rows(dump.stats["stats_hourly_rows"])
    else:
        keys = set((await session.execute(select(ApiKey.id))).scalars())
        channels = set((await session.execute(select(Channel.id))).scalars())
        rows = backup_stats.reference_rows(dump.stats, exported_at, keys, channels)
        for name in ("stats_hourly", "stats_model"):
            if dump.stats.get(name):
                report.skip(name, len(dump.stats[name]))
        report.notes.append(
            "statistics: daily, per-channel and per-key totals imported; the reference's "
            "hourly rows (today only, already in the daily totals) and per-item rows were not"
        )
    report.rows_affected["stats_hourly"] = await backup_stats.put_rows(session, rows)


async def _advance_sequences(session: AsyncSession) -> None:
    """PostgreSQL sequences do not move when ids are given explicitly."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in (Channel, ChannelKey, Group, GroupItem, ApiKey):
        top = (await session.execute(select(func.max(table.id)))).scalar() or 0
        await session.execute(
            text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :next, false)"),
            {"table": table.__tablename__, "next": top + 1},
        )


async def run_import(
    sessions: async_sessionmaker[AsyncSession],
    dump: Dump,
    *,
    reference: Reference,
    exported_at: float,
) -> ImportReport:
    """The whole import in ONE transaction: any refusal or database error changes nothing."""
    try:
        async with sessions() as session, session.begin():
            return await import_dump(session, dump, reference=reference, exported_at=exported_at)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0][:300]
        raise DumpError(f"the database refused the import: {scrub(reason)}") from None
