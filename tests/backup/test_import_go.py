"""A dump exported by the Go project (version 2) imports cleanly on every database."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from octopus.records.group_mode import GroupMode
from octopus.routing.catalog import RelayConfig
from octopus.store import stats, tables
from octopus.store.backup_rows import load_document
from octopus.store.catalog_loader import load_catalog
from octopus.store.database import Database
from tests.backup.conftest import go_dump, run

DAY = 86400


def _metrics(row: dict[str, Any]) -> dict[str, Any]:
    names = (
        "request_success",
        "request_failed",
        "input_token",
        "output_token",
        "input_cost",
        "output_cost",
        "wait_time",
    )
    return {name: pytest.approx(row[name]) for name in names}


async def test_go_dump_imports_every_table(database: Database) -> None:
    doc = go_dump()
    report = await run(database, doc)
    assert report.rows_affected == {
        "channels": 4,
        "channel_keys": 4,
        "groups": 3,
        "group_items": 6,
        "api_keys": 3,
        "llm_infos": 9,
        "settings": 5,
        "stats_hourly": report.rows_affected["stats_hourly"],
    }
    assert report.rows_affected["stats_hourly"] > 0
    assert report.skipped == {"settings": 1, "stats_hourly": 2, "stats_model": 2}
    assert any("relay_log_keep_period" in note for note in report.notes)

    async with database.sessions() as session:
        catalog = await load_catalog(session, "http://global-proxy:1")
        channels = {c.id: c for c in (await session.execute(select(tables.Channel))).scalars()}
        prices = {p.name: p for p in (await session.execute(select(tables.LlmInfo))).scalars()}
        settings = {
            s.key: s.value for s in (await session.execute(select(tables.Setting))).scalars()
        }

    # channels: the single `key` became a channel key; volcengine stays itself, speaking OpenAI
    assert sorted(catalog.channels) == [1, 2, 3, 4]
    assert channels[3].type == "volcengine"
    assert catalog.channels[3].type == "openai"
    assert catalog.channels[3].base_url == "https://ark.cn-beijing.volces.com/api/v3"
    assert [k.secret for k in catalog.channels[2].keys] == ["sk-ant-api03-Zyx987Wvu654Tsr321Qpo098"]
    assert catalog.channels[2].models == {
        "claude-sonnet-4-5-20250929",
        "claude-haiku-4-5-20251001",
        "claude-opus-4-1",
    }
    assert catalog.channels[2].proxy_url == "socks5://127.0.0.1:1080"
    assert catalog.channels[2].custom_headers == (("anthropic-beta", "prompt-caching-2024-07-31"),)
    assert dict(catalog.channels[2].param_override) == {"temperature": b"0.2"}
    assert catalog.channels[4].enabled is False
    assert channels[3].channel_proxy is None
    assert channels[3].match_regex is None
    assert channels[1].match_regex == "^gpt-"
    assert channels[1].auto_sync is True

    # groups: modes kept, the member_* relay_config translated (zeros mean "default")
    gpt = catalog.groups["gpt-4o"]
    assert gpt.mode is GroupMode.FAILOVER
    assert [(m.id, m.channel_id, m.model_name) for m in gpt.members] == [
        (1, 1, "gpt-4o"),
        (2, 1, "gpt-4o-mini"),
    ]
    assert (gpt.config.retry_interval, gpt.config.cooldown, gpt.config.sticky_seconds) == (
        3,
        60,
        300,
    )
    assert (gpt.config.first_token_timeout, gpt.config.response_timeout) == (30, 120)
    assert gpt.config.max_attempts == 2
    sonnet = catalog.groups["claude-sonnet"]
    assert (sonnet.mode, sonnet.active_item_id) == (GroupMode.MANUAL, 3)
    assert sonnet.config.first_token_timeout == RelayConfig().first_token_timeout

    # API keys: only the sha256 of the plaintext key is kept
    for raw in doc["api_keys"]:
        digest = hashlib.sha256(raw["api_key"].encode()).hexdigest()
        key = catalog.keys[digest]
        assert (key.id, key.name, key.enabled, key.max_cost) == (
            raw["id"],
            raw["name"],
            raw["enabled"],
            raw["max_cost"],
        )
    assert catalog.keys[
        hashlib.sha256(doc["api_keys"][1]["api_key"].encode()).hexdigest()
    ].supported_models == {"gpt-4o", "fast"}
    async with database.sessions() as session:
        stored_keys = (await session.execute(select(tables.ApiKey))).scalars().all()
    assert all(raw["api_key"] not in str(vars(k)) for k in stored_keys for raw in doc["api_keys"])
    assert stored_keys[0].key_prefix.startswith("sk-octopus-")

    # prices: equal to models.dev → automatic; edited or unknown to it → hand-set; zeros → unset
    manual = {name for name, p in prices.items() if p.manual}
    assert manual == {"gpt-4o-mini", "doubao-seed-1-6-250615"}
    assert prices["claude-opus-4-1"].output == 75

    assert settings["proxy_url"] == "http://127.0.0.1:7890"
    assert settings["sync_llm_interval"] == "12"
    assert "relay_log_keep_period" not in settings


async def test_go_stats_keep_every_total(database: Database) -> None:
    doc = go_dump()
    await run(database, doc)
    async with database.sessions() as session:
        total = await stats.total(session)
        daily = (await stats.daily(session, 1_763_626_530))["items"]
        per_key = {r["api_key_id"]: r for r in await stats.by_api_key(session)}
        per_channel = {r["channel_id"]: r for r in await stats.by_channel(session)}
        spent = await stats.key_spent(session)

    assert total == {**total, **_metrics(doc["stats_total"][0])}
    assert [d["date"] for d in daily] == ["20251118", "20251119", "20251120"]
    for got, want in zip(daily, doc["stats_daily"], strict=True):
        assert got == {**got, **_metrics(want)}
    for want in doc["stats_channel"]:
        got = per_channel[want["channel_id"]]
        assert got == {**got, **_metrics(want)}
    for want in doc["stats_api_key"]:
        got = per_key[want["api_key_id"]]
        assert got == {**got, **_metrics(want)}
    # what no listed key accounts for (a deleted key) stays in the totals under key 0
    assert per_key[0]["request_success"] == 10
    assert per_key[0]["input_cost"] == pytest.approx(0.05)
    assert spent[1] == pytest.approx(5.2)  # the budget check sees the lifetime spend
    assert set(per_key) == {0, 1, 2}


async def test_importing_the_same_dump_twice_changes_nothing(database: Database) -> None:
    await run(database, go_dump())
    async with database.sessions() as session:
        before = await stats.total(session)
    again = await run(database, go_dump())
    assert again.rows_affected["channels"] == 0
    assert again.skipped["channels"] == 4
    assert again.skipped["group_items"] == 6
    async with database.sessions() as session:
        assert await stats.total(session) == before


async def test_new_rows_after_an_import_get_fresh_ids(database: Database) -> None:
    await run(database, go_dump())
    async with database.sessions() as session:
        row = tables.Channel(name="after-import", type="openai", base_url="http://x")
        session.add(row)
        group = tables.Group(name="after-import", mode="failover", relay_config={})
        session.add(group)
        await session.commit()
        assert row.id == 5
        assert group.id == 4


async def test_envelope_wrapped_and_version_0_dumps(database: Database) -> None:
    doc = go_dump()
    wrapped = {"code": 200, "message": "success", "data": {**doc, "version": 0}}
    unwrapped = load_document(orjson.dumps(wrapped))
    assert unwrapped["channels"] == doc["channels"]
    report = await run(database, unwrapped)
    assert report.rows_affected["channels"] == 4
