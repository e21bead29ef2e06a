"""Statistics: upsert the hourly rows a log batch adds, and every view as a sum of stats_hourly.

Rows are per UTC hour (`hour` is the unix second it starts at); days and local hours are computed
when read, in the configured zone (octopus.core.zone).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Executable, Select, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from octopus.core.zone import UTC, days_before, hour_of_day, next_day
from octopus.core.zone import date_of as zone_date_of
from octopus.core.zone import day_start as zone_day_start
from octopus.store.engine import upsert_insert
from octopus.store.records import COUNTERS, HOUR
from octopus.store.tables import ApiKey, Group, StatsHourly

DAY = 86400
HEATMAP_DAYS = 54 * 7  # 53 weeks plus the current one
_KEYS = ("hour", "api_key_id", "channel_id", "group_name", "upstream_model")


async def add_hourly(session: AsyncSession, deltas: Sequence[dict[str, Any]]) -> None:
    """Add the increments to their rows (insert or add) in the caller's transaction."""
    if not deltas:
        return
    dialect = session.get_bind().dialect.name
    stmt = _UPSERTS.get(dialect)
    if stmt is None:  # built once per dialect: a flush several times a second reuses it
        stmt = _UPSERTS[dialect] = _upsert(dialect)
    await session.execute(stmt, list(deltas))


def _upsert(dialect: str) -> Executable:
    table = cast(Table, StatsHourly.__table__)
    ins = upsert_insert(dialect, table)
    if dialect in ("mysql", "mariadb"):
        stmt = ins.on_duplicate_key_update({c: table.c[c] + ins.inserted[c] for c in COUNTERS})
    else:
        stmt = ins.on_conflict_do_update(
            index_elements=list(_KEYS), set_={c: table.c[c] + ins.excluded[c] for c in COUNTERS}
        )
    return cast(Executable, stmt)  # the dialects' insert constructs are typed Any


_UPSERTS: dict[str, Executable] = {}


def _sums() -> list[Any]:
    return [func.coalesce(func.sum(getattr(StatsHourly, c)), 0).label(c) for c in COUNTERS]


def _range(start: int | None, end: int | None) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if start is not None:
        found.append(StatsHourly.hour >= start)
    if end is not None:
        found.append(StatsHourly.hour < end)
    return found


def _metrics(row: Any) -> dict[str, Any]:
    values = {c: row[c] for c in COUNTERS}
    for name in COUNTERS:
        values[name] = float(values[name]) if name.endswith("_cost") else int(values[name])
    return values


def zero_counters() -> dict[str, Any]:
    """Every counter at zero (costs as floats), for a day, hour or channel with no traffic."""
    return {c: 0.0 if c.endswith("_cost") else 0 for c in COUNTERS}


def date_of(unix: float, zone: ZoneInfo = UTC) -> str:
    return zone_date_of(unix, zone)


def day_start(unix: float, zone: ZoneInfo = UTC) -> int:
    return zone_day_start(unix, zone)


async def total(
    session: AsyncSession, start: int | None = None, end: int | None = None
) -> dict[str, Any]:
    row = (await session.execute(select(*_sums()).where(*_range(start, end)))).mappings().one()
    return _metrics(row)


async def today(session: AsyncSession, now: float, zone: ZoneInfo = UTC) -> dict[str, Any]:
    start = day_start(now, zone)
    counters = await total(session, start, next_day(start, zone))
    return {"date": date_of(now, zone), **counters, "timezone": zone.key}


async def _per_hour(session: AsyncSession, start: int | None, end: int | None) -> dict[int, Any]:
    query = (
        select(StatsHourly.hour, *_sums())
        .where(*_range(start, end))
        .group_by(StatsHourly.hour)
        .order_by(StatsHourly.hour)
    )
    return {int(r["hour"]): _metrics(r) for r in (await session.execute(query)).mappings()}


async def daily(
    session: AsyncSession, now: float, days: int | None = None, zone: ZoneInfo = UTC
) -> dict[str, Any]:
    """`{max_request_count, items}`: every local day with traffic (or the last `days`), oldest
    first; an hour belongs to the local day its start falls in."""
    today_start = day_start(now, zone)
    start = days_before(today_start, days - 1, zone) if days else None
    by_day: dict[str, dict[str, Any]] = {}
    for hour, values in (await _per_hour(session, start, None)).items():
        row = by_day.setdefault(date_of(hour, zone), zero_counters())
        for name in COUNTERS:
            row[name] += values[name]
    heatmap_from = date_of(days_before(today_start, HEATMAP_DAYS - 1, zone), zone)
    peak = max(
        (
            r["request_success"] + r["request_failed"]
            for d, r in by_day.items()
            if d >= heatmap_from
        ),
        default=0,
    )
    items = [{"date": d, **by_day[d]} for d in sorted(by_day)]
    return {"max_request_count": peak, "items": items}


async def hourly(
    session: AsyncSession, start: int, end: int, zone: ZoneInfo = UTC
) -> list[dict[str, Any]]:
    """Every hour in [start, end) zero-filled, with its local `hour` (0–23), `date` and `time`."""
    start = start // HOUR * HOUR
    found = await _per_hour(session, start, end)
    return [
        {
            "hour": hour_of_day(h, zone),
            "date": date_of(h, zone),
            "time": h,
            **(found.get(h) or zero_counters()),
        }
        for h in range(start, end, HOUR)
    ]


async def _grouped(
    session: AsyncSession, columns: Sequence[Any], start: int | None, end: int | None
) -> list[dict[str, Any]]:
    query: Select[Any] = (
        select(*columns, *_sums()).where(*_range(start, end)).group_by(*columns).order_by(*columns)
    )
    rows = (await session.execute(query)).mappings()
    return [{**{c.key: r[c.key] for c in columns}, **_metrics(r)} for r in rows]


async def by_api_key(
    session: AsyncSession, start: int | None = None, end: int | None = None
) -> list[dict[str, Any]]:
    return await _grouped(session, [StatsHourly.api_key_id], start, end)


async def by_channel(
    session: AsyncSession, start: int | None = None, end: int | None = None
) -> list[dict[str, Any]]:
    return await _grouped(session, [StatsHourly.channel_id], start, end)


async def by_model(
    session: AsyncSession, start: int | None = None, end: int | None = None
) -> list[dict[str, Any]]:
    rows = await _grouped(session, [StatsHourly.upstream_model], start, end)
    return [{"model": r.pop("upstream_model"), **r} for r in rows]


async def by_member(
    session: AsyncSession, start: int | None = None, end: int | None = None
) -> list[dict[str, Any]]:
    """Per group member: (group name, channel, upstream model)."""
    columns = [StatsHourly.group_name, StatsHourly.channel_id, StatsHourly.upstream_model]
    return await _grouped(session, columns, start, end)


async def channel_stats(session: AsyncSession) -> dict[int, dict[str, Any]]:
    """Lifetime stats per channel id, for the channel list."""
    return {r.pop("channel_id"): r for r in await by_channel(session)}


async def key_spent(session: AsyncSession) -> dict[int, float]:
    """Lifetime cost per API key id, to seed the relay's budget (max_cost) check."""
    spent = func.sum(StatsHourly.input_cost + StatsHourly.output_cost)
    query = select(StatsHourly.api_key_id, spent).group_by(StatsHourly.api_key_id)
    return {int(k): float(v or 0.0) for k, v in (await session.execute(query)).all()}


async def key_stats(session: AsyncSession, api_key_id: int) -> dict[str, Any]:
    query = select(*_sums()).where(StatsHourly.api_key_id == api_key_id)
    row = (await session.execute(query)).mappings().one()
    return {"api_key_id": api_key_id, **_metrics(row)}


async def key_by_hash(session: AsyncSession, key_hash: str) -> ApiKey | None:
    query = select(ApiKey).where(ApiKey.key_hash == key_hash).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def usable_groups(session: AsyncSession, supported: str) -> list[str]:
    """The group names a key may use: all groups, or those listed in `supported_models`."""
    names = list((await session.scalars(select(Group.name).order_by(Group.name))).all())
    allowed = {m.strip() for m in supported.split(",") if m.strip()}
    return [n for n in names if not allowed or n in allowed]
