"""Statistics derive from the same batches as the logs: every view equals the sum of the logs."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

from octopus.records.request import Attempt, CostRecord, RequestRecord, UsageRecord
from octopus.store import logs, stats
from octopus.store.database import Database
from octopus.store.writer import BatchWriter, WriterConfig
from tests.logs.factory import record

NOW = 1_760_000_000.0  # 2025-10-09 09:06:40 UTC
HOUR, DAY = 3600, 86400


def _random_records(count: int, seed: int = 7) -> list[RequestRecord]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        started = NOW - rng.randrange(0, 40 * DAY)
        channel = rng.choice([1, 2, 3])
        status = rng.choice(["success", "success", "success", "failed", "canceled"])
        attempts = [Attempt(channel, f"c{channel}", "m", 1, started, "success", 200, "", 10)]
        if rng.random() < 0.3:  # failed over from channel 9 first
            attempts.insert(0, Attempt(9, "c9", "m9", 2, started, "failed", 500, "boom", 5))
        out.append(
            record(
                started_at=started,
                api_key_id=rng.choice([1, 2]),
                requested_model=rng.choice(["smart", "fast"]),
                channel_id=channel,
                upstream_model=rng.choice(["m-a", "m-b"]),
                status=status,
                attempts=attempts,
                duration_ms=rng.randrange(10, 5000),
                usage=UsageRecord(
                    input=rng.randrange(0, 5000),
                    output=rng.randrange(0, 900),
                    cache_read=rng.randrange(0, 100),
                    cache_write=rng.randrange(0, 50),
                    reasoning=rng.randrange(0, 30),
                    estimated=rng.random() < 0.2,
                ),
                cost=CostRecord(rng.random() / 100, rng.random() / 50),
            )
        )
    return out


def _expected(records: list[RequestRecord], key: Any = lambda r: 0) -> dict[Any, Any]:
    sums: dict[Any, Any] = defaultdict(lambda: defaultdict(float))
    for r in records:
        row = sums[key(r)]
        row["request_success" if r.status == "success" else "request_failed"] += 1
        row["input_token"] += r.usage.input
        row["output_token"] += r.usage.output
        row["cache_read_token"] += r.usage.cache_read
        row["input_cost"] += r.cost.input_cost
        row["output_cost"] += r.cost.output_cost
        row["wait_time"] += r.duration_ms
    return sums


def _same(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    for name, value in expected.items():
        if name.endswith("_cost"):
            assert abs(actual[name] - value) < 1e-9, name
        else:
            assert actual[name] == value, name


async def test_every_view_is_the_sum_of_the_logs(database: Database) -> None:
    records = _random_records(400)
    writer = BatchWriter(database.sessions, WriterConfig(batch_size=64, max_batch=64))
    for r in records:
        writer.finished(r)
    assert await writer.drain()

    async with database.sessions() as session:
        total = await stats.total(session)
        per_key = {r["api_key_id"]: r for r in await stats.by_api_key(session)}
        per_channel = await stats.channel_stats(session)
        per_model = {r["model"]: r for r in await stats.by_model(session)}
        members = await stats.by_member(session)
        daily = await stats.daily(session, NOW)
        spent = await stats.key_spent(session)
        logged = await logs.list_logs(session, logs.LogFilter(), 1, 1)
    assert logged["total"] == 400 == total["request_success"] + total["request_failed"]
    _same(total, _expected(records)[0])
    for key_id, row in _expected(records, lambda r: r.api_key_id).items():
        _same(per_key[key_id], row)
        assert abs(spent[key_id] - row["input_cost"] - row["output_cost"]) < 1e-9
    for channel_id, row in _expected(records, lambda r: r.channel_id).items():
        _same(per_channel[channel_id], row)
    for model, row in _expected(records, lambda r: r.upstream_model).items():
        _same(per_model[model], row)
    failovers = sum(1 for r in records if len(r.attempts) == 2)
    assert per_channel[9]["attempt_failed"] == failovers
    assert per_channel[9]["request_success"] + per_channel[9]["request_failed"] == 0
    assert {(m["group_name"], m["channel_id"], m["upstream_model"]) for m in members} >= {
        (r.requested_model, r.channel_id, r.upstream_model) for r in records
    }

    by_day = _expected(records, lambda r: int(r.started_at) // DAY * DAY)
    assert [d["date"] for d in daily["items"]] == [stats.date_of(d) for d in sorted(by_day)]
    for item, day in zip(daily["items"], sorted(by_day), strict=True):
        _same(item, by_day[day])
    peak = max(r["request_success"] + r["request_failed"] for r in by_day.values())
    assert daily["max_request_count"] == peak


async def test_hourly_and_today_are_utc_and_zero_filled(database: Database) -> None:
    today_start = int(NOW) // DAY * DAY
    records = [
        record(started_at=float(today_start + 5)),  # 00:00 UTC
        record(started_at=float(today_start + 2 * HOUR + 7), status="failed"),
        record(started_at=float(today_start + 2 * HOUR + 9)),
        record(started_at=float(today_start - 30)),  # yesterday 23:59
    ]
    writer = BatchWriter(database.sessions)
    for r in records:
        writer.finished(r)
    assert await writer.drain()
    async with database.sessions() as session:
        today = await stats.today(session, NOW)
        hours = await stats.hourly(session, today_start, today_start + 10 * HOUR)
        last_day = await stats.hourly(session, today_start - DAY, today_start)
    assert today["date"] == "20251009"
    assert (today["request_success"], today["request_failed"]) == (2, 1)
    assert [h["hour"] for h in hours] == list(range(10))
    assert [h["request_success"] + h["request_failed"] for h in hours] == [1, 0, 2] + [0] * 7
    assert hours[2]["date"] == "20251009"
    assert hours[2]["time"] == today_start + 2 * HOUR
    assert last_day[23]["request_success"] == 1
    assert last_day[23]["date"] == "20251008"


async def test_batches_accumulate_into_existing_rows(database: Database) -> None:
    writer = BatchWriter(database.sessions)
    for _ in range(3):  # three transactions hitting the same stats row
        writer.finished(record(started_at=NOW))
        assert await writer.drain()
    async with database.sessions() as session:
        total = await stats.total(session)
    assert total["request_success"] == 3
    assert total["input_token"] == 300
