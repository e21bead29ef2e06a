"""Export → import of our own format restores everything (users excepted), on every database."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select

from octopus.store import backup, stats, tables
from octopus.store.backup_rows import parse_dump
from octopus.store.database import Database
from tests.backup.conftest import TABLES, counts, go_dump, run

NOW = 1_800_000_000.0


async def export(database: Database, include_stats: bool = True) -> dict[str, Any]:
    async with database.sessions() as session:
        return await backup.export_dump(session, include_stats=include_stats, now=NOW)


async def enrich(database: Database) -> None:
    """What only our format can hold: several keys per channel, weights, limits, manual flags."""
    async with database.sessions() as session:
        session.add(
            tables.ChannelKey(channel_id=1, key="sk-second-key-0000", enabled=False, remark="spare")
        )
        item = await session.get(tables.GroupItem, 1)
        assert item is not None
        item.weight = 5
        key = await session.get(tables.ApiKey, 2)
        assert key is not None
        key.max_rpm, key.max_tpm, key.max_concurrency = 60, 100_000, 4
        session.add(tables.LlmInfo(name="hand-set", input=0.5, manual=True, updated_at=123))
        await stats.add_hourly(
            session,
            [
                {
                    "hour": 1_799_996_400, "api_key_id": 2, "channel_id": 1,
                    "group_name": "gpt-4o", "upstream_model": "gpt-4o",
                    **dict.fromkeys(("request_success", "input_token", "output_token"), 3),
                    "request_failed": 0, "attempt_failed": 1, "cache_read_token": 7,
                    "cache_write_token": 0, "reasoning_token": 2, "input_cost": 0.01,
                    "output_cost": 0.02, "wait_time": 900,
                }
            ],
        )  # fmt: skip
        await session.commit()


async def wipe(database: Database) -> None:
    async with database.sessions() as session:
        for table in reversed(TABLES):
            await session.execute(delete(table))
        await session.commit()


async def test_export_then_import_restores_everything(database: Database) -> None:
    await run(database, go_dump())
    await enrich(database)
    first = await export(database)
    assert first["version"] == 2
    assert first["octopus_format"] == 1
    assert first["exported_at"] == "2027-01-15T08:00:00Z"
    channel = next(c for c in first["channels"] if c["id"] == 1)
    assert channel["key"] == "sk-proj-Abc123Def456Ghi789Jkl012Mno345"  # the reference's field
    assert [k["key"] for k in channel["keys"]] == [channel["key"], "sk-second-key-0000"]
    assert all("api_key" not in k and len(k["key_hash"]) == 64 for k in first["api_keys"])
    assert "users" not in first
    assert "password" not in json.dumps(first)
    before = await counts(database)

    await wipe(database)
    assert set((await counts(database)).values()) == {0}
    report = await backup.run_import(
        database.sessions,
        parse_dump(json.loads(json.dumps(first))),
        reference=lambda name: None,
        exported_at=NOW,
    )
    assert report.skipped == {}
    assert report.rows_affected["channel_keys"] == 5
    assert await counts(database) == before
    second = await export(database)
    assert _comparable(second) == _comparable(first)


def _comparable(doc: dict[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True)


async def test_export_without_stats_has_no_stats(database: Database) -> None:
    await run(database, go_dump())
    doc = await export(database, include_stats=False)
    assert doc["include_stats"] is False
    assert not [name for name in doc if name.startswith("stats_")]
    with_stats = await export(database)
    for name in (
        "stats_total",
        "stats_daily",
        "stats_hourly",
        "stats_model",
        "stats_channel",
        "stats_api_key",
    ):
        assert name in with_stats
    assert with_stats["stats_total"][0]["request_success"] == 360
    assert {r["channel_id"] for r in with_stats["stats_channel"]} == {1, 2, 3}


async def test_an_exported_dump_keeps_api_keys_usable(database: Database) -> None:
    await run(database, go_dump())
    doc = await export(database, include_stats=False)
    async with database.sessions() as session:
        hashes = set((await session.execute(select(tables.ApiKey.key_hash))).scalars())
    await wipe(database)
    await backup.run_import(
        database.sessions, parse_dump(doc), reference=lambda name: None, exported_at=NOW
    )
    async with database.sessions() as session:
        assert set((await session.execute(select(tables.ApiKey.key_hash))).scalars()) == hashes
