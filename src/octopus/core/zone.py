"""Calendar days and hours in the configured time zone (OCTOPUS_TIMEZONE, else TZ, else UTC).

Stats are stored per UTC hour; days and local hours are computed from them when read, so they
follow the zone in force at that moment (docs/logs-stats-metrics.md, "Time zone").
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")
DAY = 86400


def _local(unix: float, zone: ZoneInfo) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(unix, zone)


def day_start(unix: float, zone: ZoneInfo = UTC) -> int:
    """Unix second of the local midnight that starts the day holding `unix`."""
    local = _local(unix, zone)
    return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())


def next_day(start: int, zone: ZoneInfo = UTC) -> int:
    """The local midnight after the day starting at `start` (23 or 25 hours on DST days)."""
    return day_start(start + DAY + 7200, zone)


def days_before(start: int, days: int, zone: ZoneInfo = UTC) -> int:
    """The local midnight `days` calendar days before the day starting at `start`."""
    local = _local(start, zone).date() - datetime.timedelta(days=days)
    return date_start(local.strftime("%Y%m%d"), zone)


def date_of(unix: float, zone: ZoneInfo = UTC) -> str:
    return _local(unix, zone).strftime("%Y%m%d")


def hour_of_day(unix: float, zone: ZoneInfo = UTC) -> int:
    return _local(unix, zone).hour


def date_start(yyyymmdd: str, zone: ZoneInfo = UTC) -> int:
    """Local midnight of a YYYYMMDD date; ValueError when it is not one."""
    day = datetime.datetime.strptime(yyyymmdd, "%Y%m%d")
    return int(day.replace(tzinfo=zone).timestamp())
