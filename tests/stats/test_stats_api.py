"""/api/v1/stats and /api/v1/apikey/stats over real HTTP on every database (UTC hours and days)."""

from __future__ import annotations

import time

import httpx

from octopus.records.request import CostRecord, UsageRecord
from tests.admin.conftest import data, error
from tests.harness import Gateway
from tests.logs.factory import record

HOUR, DAY = 3600, 86400


def _utc_date(unix: float) -> str:
    return time.strftime("%Y%m%d", time.gmtime(unix))


async def test_stats_routes(gateway_db: Gateway, admin_db: httpx.AsyncClient) -> None:
    created = data(await admin_db.post("/api/v1/apikey/create", json={"name": "team"}))
    key_id, raw_key = created["id"], created["api_key"]
    now = time.time()
    usage = UsageRecord(input=1000, output=200, cache_read=100)
    records = [
        record(started_at=now, api_key_id=key_id, usage=usage, cost=CostRecord(0.5, 0.25)),
        record(started_at=now, api_key_id=key_id, status="failed", channel_id=2, duration_ms=900),
        record(started_at=now - DAY, api_key_id=99, upstream_model="other-model"),
    ]
    state = gateway_db.app.services
    for item in records:
        state.record_sink.finished(item)
    assert await state.log_writer.drain()

    total = data(await admin_db.get("/api/v1/stats/total"))
    assert (total["request_success"], total["request_failed"]) == (2, 1)
    assert total["input_token"] == 1000 + 100 + 100
    assert total["output_token"] == 240
    assert abs(total["input_cost"] - 0.502) < 1e-9
    assert abs(total["output_cost"] - 0.254) < 1e-9
    assert total["wait_time"] == 150 + 900 + 150

    today = data(await admin_db.get("/api/v1/stats/today"))
    assert today["date"] == _utc_date(now)
    assert today["request_failed"] == 1

    daily = data(await admin_db.get("/api/v1/stats/daily"))
    # the Go shape: a plain list of days
    assert [d["date"] for d in daily] == [_utc_date(now - DAY), _utc_date(now)]

    hourly = data(await admin_db.get("/api/v1/stats/hourly"))
    current_hour = int(now) % DAY // HOUR
    assert [h["hour"] for h in hourly] == list(range(current_hour + 1))
    assert hourly[-1]["request_success"] + hourly[-1]["request_failed"] == 2
    two_days = data(await admin_db.get("/api/v1/stats/hourly", params={"hours": 48}))
    assert len(two_days) == 48
    assert sum(h["request_success"] for h in two_days) == 2
    yesterday = data(
        await admin_db.get("/api/v1/stats/hourly", params={"date": _utc_date(now - DAY)})
    )
    assert len(yesterday) == 24
    assert sum(h["request_success"] for h in yesterday) == 1
    error(await admin_db.get("/api/v1/stats/hourly", params={"date": "2024-01-01"}), 400)

    per_key = {r["api_key_id"]: r for r in data(await admin_db.get("/api/v1/stats/apikey"))}
    assert per_key[key_id]["request_failed"] == 1
    assert per_key[99]["request_success"] == 1
    per_channel = {r["channel_id"]: r for r in data(await admin_db.get("/api/v1/stats/channel"))}
    assert per_channel[2]["request_failed"] == 1
    assert per_channel[1]["request_success"] == 2
    models = {r["model"] for r in data(await admin_db.get("/api/v1/stats/model"))}
    assert models == {"gpt-4o-mini", "other-model"}
    members = data(await admin_db.get("/api/v1/stats/member"))
    assert {(m["group_name"], m["channel_id"]) for m in members} == {("smart", 1), ("smart", 2)}
    recent = {"start_time": int(now) - HOUR}
    narrowed = data(await admin_db.get("/api/v1/stats/apikey", params=recent))
    assert [r["api_key_id"] for r in narrowed] == [key_id]

    async with httpx.AsyncClient(base_url=gateway_db.url) as client:
        mine = data(
            await client.get("/api/v1/apikey/stats", headers={"Authorization": f"Bearer {raw_key}"})
        )
        assert mine["stats"]["request_success"] == 1
        assert mine["stats"]["request_failed"] == 1
        assert abs(mine["stats"]["input_cost"] - 0.501) < 1e-9
        assert mine["info"]["id"] == key_id
        assert mine["info"]["name"] == "team"
        assert raw_key not in str(mine)
        again = data(await client.get("/api/v1/apikey/stats", headers={"x-api-key": raw_key}))
        assert again == mine
        error(await client.get("/api/v1/apikey/stats", headers={"x-api-key": "sk-octopus-no"}), 401)
        error(await client.get("/api/v1/apikey/stats"), 401)
        error(await client.get("/api/v1/stats/total"), 401)
