"""Thousands of rows import in batches (under every engine's bind-parameter limit)."""

from __future__ import annotations

from typing import Any

from octopus.store.database import Database
from tests.backup.conftest import counts, run

ROWS = 2500


def big_dump() -> dict[str, Any]:
    hour = 1_760_000_400
    return {
        "version": 2,
        "octopus_format": 1,
        "channels": [
            {
                "id": i,
                "name": f"ch-{i}",
                "type": "openai",
                "base_url": "http://x/v1",
                "key": f"k-{i}",
            }
            for i in range(1, ROWS + 1)
        ],
        "llm_infos": [{"name": f"model-{i}", "input": i / 100} for i in range(ROWS)],
        "stats_hourly_rows": [
            {"hour": hour + 3600 * i, "api_key_id": 0, "channel_id": 1, "request_success": 1}
            for i in range(ROWS)
        ],
    }


async def test_thousands_of_rows(database: Database) -> None:
    report = await run(database, big_dump())
    assert report.rows_affected == {
        "channels": ROWS,
        "channel_keys": ROWS,
        "groups": 0,
        "group_items": 0,
        "api_keys": 0,
        "llm_infos": ROWS,
        "settings": 0,
        "stats_hourly": ROWS,
    }
    found = await counts(database)
    assert found["channels"] == found["channel_keys"] == found["llm_infos"] == ROWS
    assert found["stats_hourly"] == ROWS
