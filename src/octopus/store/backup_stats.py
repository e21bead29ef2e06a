"""Statistics in a dump: export (exact rows plus the reference's aggregates) and import.

Our export carries `stats_hourly_rows`, the exact `stats_hourly` rows, restored as they are.
A reference dump has only lifetime aggregates: a total, one row per day, per channel and per API
key (plus today's 24 hours and per-item rows). Our one table is a fact table every view sums,
so those marginals are laid over one another per counter: for each counter the total is cut
into consecutive pieces by day, by key and by channel, and every overlap becomes one row at that
day's midnight (UTC). Totals per day, per key and per channel then match the dump exactly (the
key × day split inside is an artefact). Hourly rows (today only, already inside the daily row)
and per-item rows (reset on every restart in the reference) are not imported.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from octopus.store import stats
from octopus.store.backup_rows import DumpError
from octopus.store.engine import upsert_insert
from octopus.store.records import COUNTERS
from octopus.store.tables import Group, GroupItem, StatsHourly

DAY = 86400
BATCH = 1000
KEY_COLUMNS = ("hour", "api_key_id", "channel_id", "group_name", "upstream_model")
EPSILON = 1e-9
Cell = tuple[int, int, int]  # (hour, api_key_id, channel_id)


async def export_stats(session: AsyncSession, now: float) -> dict[str, Any]:
    rows = (await session.execute(select(StatsHourly).order_by(*KEY_COLUMNS))).scalars().all()
    exact = [{c: getattr(r, c) for c in (*KEY_COLUMNS, *COUNTERS)} for r in rows]
    today = stats.day_start(now)
    return {
        "stats_total": [{"id": 1, **await stats.total(session)}],
        "stats_daily": (await stats.daily(session, now))["items"],
        "stats_hourly": await stats.hourly(session, today, today + DAY),
        "stats_model": await _per_item(session),
        "stats_channel": await stats.by_channel(session),
        "stats_api_key": await stats.by_api_key(session),
        "stats_hourly_rows": exact,
    }


async def _per_item(session: AsyncSession) -> list[dict[str, Any]]:
    """The reference's per-group-item rows, for members that still exist."""
    query = select(GroupItem.id, Group.name, GroupItem.channel_id, GroupItem.model_name).join(
        Group, Group.id == GroupItem.group_id
    )
    items = {(g, c, m): i for i, g, c, m in (await session.execute(query)).all()}
    found = []
    for row in await stats.by_member(session):
        item = items.get((row["group_name"], row["channel_id"], row["upstream_model"]))
        if item is not None:
            metrics = {c: row[c] for c in COUNTERS}
            found.append(
                {
                    "id": item,
                    "name": row["upstream_model"],
                    "channel_id": row["channel_id"],
                    **metrics,
                }
            )
    return found


def exact_rows(raw: Any) -> list[dict[str, Any]]:
    """Validate our own `stats_hourly_rows`."""
    if not isinstance(raw, list):
        raise DumpError("stats_hourly_rows: expected a list")
    rows = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise DumpError(f"stats_hourly_rows[{index}]: expected an object")
        row: dict[str, Any] = {}
        for name in ("hour", "api_key_id", "channel_id"):
            row[name] = _int(item.get(name), f"stats_hourly_rows[{index}].{name}")
        for name in ("group_name", "upstream_model"):
            value = item.get(name, "")
            if not isinstance(value, str) or len(value) > 191:
                raise DumpError(f"stats_hourly_rows[{index}].{name}: must be a short string")
            row[name] = value
        row.update(_metrics(item, f"stats_hourly_rows[{index}]"))
        rows.append(row)
    return rows


def reference_rows(
    sections: dict[str, Any], exported_at: float, keys: set[int], channels: set[int]
) -> list[dict[str, Any]]:
    """Rows laid over from the reference's aggregates; unknown key or channel ids become 0."""
    fallback_day = stats.day_start(exported_at)
    total = _summed(_entries(sections, "stats_total"), "stats_total")
    days = [
        (_day(e, f"stats_daily[{i}]"), _metrics(e, f"stats_daily[{i}]"))
        for i, e in enumerate(_entries(sections, "stats_daily"))
    ]
    by_key = _marginal(sections, "stats_api_key", "api_key_id", keys)
    by_channel = _marginal(sections, "stats_channel", "channel_id", channels)
    cells: dict[Cell, dict[str, Any]] = {}
    for counter in COUNTERS:
        day_parts = [(d, m[counter]) for d, m in days]
        key_parts = [(k, m[counter]) for k, m in by_key]
        channel_parts = [(c, m[counter]) for c, m in by_channel]
        whole = max(total[counter], *(_sum(p) for p in (day_parts, key_parts, channel_parts)))
        pieces = _overlay(
            whole,
            _completed(day_parts, whole, fallback_day),
            _completed(key_parts, whole, 0),
            _completed(channel_parts, whole, 0),
        )
        for cell, amount in pieces:
            row = cells.setdefault(cell, stats.zero_counters())
            row[counter] += type(row[counter])(amount)
    return [
        {"hour": h, "api_key_id": k, "channel_id": c, "group_name": "", "upstream_model": "", **m}
        for (h, k, c), m in sorted(cells.items())
    ]


def _sum(parts: Sequence[tuple[int, float]]) -> float:
    return sum(amount for _, amount in parts)


def _completed(
    parts: list[tuple[int, float]], whole: float, rest_to: int
) -> list[tuple[int, float]]:
    """The pieces, plus whatever the section leaves unattributed, under `rest_to`."""
    rest = whole - _sum(parts)
    return [*parts, (rest_to, rest)] if rest > EPSILON else parts


def _overlay(whole: float, *partitions: list[tuple[int, float]]) -> Iterator[tuple[Cell, float]]:
    """Walk [0, whole] cut by three partitions at once; yield every overlap with its length."""
    if any(not p for p in partitions):
        return
    cursors = [0] * len(partitions)
    left = [p[0][1] for p in partitions]
    remaining = whole
    while remaining > EPSILON:
        step = max(0.0, min(remaining, *left))
        if step > EPSILON:
            day, key, channel = (p[c][0] for c, p in zip(cursors, partitions, strict=True))
            yield (day, key, channel), step
        remaining -= step
        moved = False
        for axis, partition in enumerate(partitions):
            left[axis] -= step
            while left[axis] <= EPSILON and cursors[axis] < len(partition) - 1:
                cursors[axis] += 1
                left[axis] += partition[cursors[axis]][1]
                moved = True
        if step <= EPSILON and not moved:
            return  # float dust at the end


def _entries(sections: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = sections.get(name)
    if value is None:
        return []
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise DumpError(f"{name}: expected a list of objects")
    return items


def _summed(entries: list[dict[str, Any]], name: str) -> dict[str, Any]:
    total = stats.zero_counters()
    for index, entry in enumerate(entries):
        for counter, value in _metrics(entry, f"{name}[{index}]").items():
            total[counter] += value
    return total


def _marginal(
    sections: dict[str, Any], name: str, id_field: str, known: set[int]
) -> list[tuple[int, dict[str, Any]]]:
    merged: dict[int, dict[str, Any]] = {}
    for index, entry in enumerate(_entries(sections, name)):
        ident = _int(entry.get(id_field), f"{name}[{index}].{id_field}")
        row = merged.setdefault(ident if ident in known else 0, stats.zero_counters())
        for counter, value in _metrics(entry, f"{name}[{index}]").items():
            row[counter] += value
    return sorted(merged.items())


def _metrics(entry: dict[str, Any], where: str) -> dict[str, Any]:
    values = stats.zero_counters()
    for counter in COUNTERS:
        raw = entry.get(counter)
        if raw is None:
            continue
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
            raise DumpError(f"{where}.{counter}: must be a non-negative number")
        values[counter] = float(raw) if counter.endswith("_cost") else int(raw)
    return values


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DumpError(f"{where}: must be a non-negative integer")
    return value


def _day(entry: dict[str, Any], where: str) -> int:
    text = entry.get("date")
    try:
        if not isinstance(text, str) or len(text) != 8:
            raise ValueError
        return calendar.timegm(time.strptime(text, "%Y%m%d"))
    except ValueError:
        raise DumpError(f"{where}.date: expected YYYYMMDD, got {text!r}") from None


async def put_rows(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert or replace stats_hourly rows (an import is repeatable), in batches."""
    dialect = session.get_bind().dialect.name
    for start in range(0, len(rows), BATCH):
        batch = list(rows[start : start + BATCH])
        ins = upsert_insert(dialect, StatsHourly)
        if dialect in ("mysql", "mariadb"):
            stmt = ins.on_duplicate_key_update({c: ins.inserted[c] for c in COUNTERS})
        else:
            stmt = ins.on_conflict_do_update(
                index_elements=list(KEY_COLUMNS), set_={c: ins.excluded[c] for c in COUNTERS}
            )
        await session.execute(stmt, batch)
    return len(rows)
