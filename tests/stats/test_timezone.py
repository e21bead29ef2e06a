"""Days and hours of the statistics in the configured zone (OCTOPUS_TIMEZONE, else TZ, else UTC):
the same stored requests bucketed in UTC, Asia/Shanghai and America/New_York (a DST day)."""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from octopus.settings import ConfigError, Settings
from tests.admin.conftest import data
from tests.harness import admin_client, serve, sqlite_settings
from tests.logs.factory import record


def _utc(text: str) -> float:
    """ "Y M D h m s" in UTC as unix seconds."""
    return float(calendar.timegm(time.strptime(text, "%Y %m %d %H %M %S")))


# 2026-03-09 23:30 and 2026-03-10 00:30 in Shanghai; 2026-03-10 11:00 in Shanghai
STARTS = [_utc("2026 3 9 15 30 0"), _utc("2026 3 9 16 30 0"), _utc("2026 3 10 3 0 0")]


async def _stats(tmp_path: Path, zone: str, starts: Iterable[float], *paths: str) -> list[Any]:
    settings = sqlite_settings(tmp_path, timezone=zone)
    async with serve(settings) as gateway:
        services = gateway.app.services
        for started in starts:
            services.record_sink.finished(record(started_at=started))
        assert await services.log_writer.drain()
        admin = await admin_client(gateway)
        try:
            return [data(await admin.get(path)) for path in paths]
        finally:
            await admin.aclose()


def _per_day(days: list[dict[str, Any]]) -> dict[str, int]:
    return {d["date"]: d["request_success"] + d["request_failed"] for d in days}


def _busy_hours(hours: list[dict[str, Any]]) -> dict[int, int]:
    return {h["hour"]: h["request_success"] for h in hours if h["request_success"]}


@pytest.mark.parametrize(
    ("zone", "days", "hours_of_10th"),
    [
        ("UTC", {"20260309": 2, "20260310": 1}, {3: 1}),
        ("Asia/Shanghai", {"20260309": 1, "20260310": 2}, {0: 1, 11: 1}),
    ],
)
async def test_days_and_hours_follow_the_zone(
    tmp_path: Path, zone: str, days: dict[str, int], hours_of_10th: dict[int, int]
) -> None:
    daily, hourly, today = await _stats(
        tmp_path,
        zone,
        STARTS,
        "/api/v1/stats/daily",
        "/api/v1/stats/hourly?date=20260310",
        "/api/v1/stats/today",
    )
    assert _per_day(daily) == days
    assert len(hourly) == 24
    assert _busy_hours(hourly) == hours_of_10th
    assert today["timezone"] == zone


async def test_a_dst_day_has_23_hours(tmp_path: Path) -> None:
    # New York moved its clocks forward on 2026-03-08: 02:00 never happened that day
    start = _utc("2026 3 8 5 0 0")  # 00:00 local (UTC-5)
    after = _utc("2026 3 8 8 0 0")  # 04:00 local (UTC-4 by then)
    (hourly,) = await _stats(
        tmp_path, "America/New_York", [start, after], "/api/v1/stats/hourly?date=20260308"
    )
    assert [h["hour"] for h in hourly] == [0, 1, *range(3, 24)]
    assert _busy_hours(hourly) == {0: 1, 4: 1}


def test_zone_from_octopus_timezone_then_tz_then_utc(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    assert Settings.load(config, {}).timezone == "UTC"
    assert Settings.load(config, {"TZ": "Asia/Shanghai"}).timezone == "Asia/Shanghai"
    assert Settings.load(config, {"TZ": ":Europe/Berlin"}).timezone == "Europe/Berlin"
    # a TZ Python cannot read (a POSIX rule) leaves UTC rather than stopping the start
    assert Settings.load(config, {"TZ": "CST-8"}).timezone == "UTC"
    both = {"TZ": "Asia/Shanghai", "OCTOPUS_TIMEZONE": "Europe/Paris"}
    assert Settings.load(config, both).timezone == "Europe/Paris"
    with pytest.raises(ConfigError, match=r"config key timezone .*unknown time zone"):
        Settings.load(config, {"OCTOPUS_TIMEZONE": "Mars/Olympus"})
    assert Settings.load(config, {"OCTOPUS_DEBUG": "true"}).debug is True
    with pytest.raises(ConfigError, match="config key debug"):
        Settings.load(config, {"OCTOPUS_DEBUG": "maybe"})
