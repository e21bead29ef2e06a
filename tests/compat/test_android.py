"""The Android client (com.elykia.octopus, OctopusApiService) replayed against `octopus start`:
every route it declares, its request bodies as kotlinx encodes them (defaults left out), and
the fields its models require (tests/compat/parsers.py).

Its channel and group models are the Go v0.9 ones (`type` and `mode` as numbers). We accept those
numbers in requests, but answer the v0.11 strings the Go project answers now: docs/compat.md.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import openai

from octopus.protocols import WireFormat
from tests.compat import parsers as p
from tests.compat.conftest import Running, envelope_data
from tests.harness import TEST_ADMIN_PASSWORD


async def _android(running: Running) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=running.url, timeout=30)
    body = {"username": "admin", "password": TEST_ADMIN_PASSWORD, "expire": 86400}
    login = envelope_data(await client.post("/api/v1/user/login", json=body))
    p.require(login, p.ANDROID_LOGIN, "login")
    client.cookies.clear()  # it sends only the Bearer header
    client.headers["Authorization"] = f"Bearer {login['token']}"
    return client


async def _channel_and_group(app: httpx.AsyncClient, base: str) -> tuple[int, int]:
    channel = {
        "name": "droid",
        "type": 0,
        "base_urls": [{"url": base}],
        "keys": [{"channel_key": "sk-droid-first-0123456789"}],
        "model": "gpt-4o,gpt-4o-mini",
    }
    created = envelope_data(await app.post("/api/v1/channel/create", json=channel))
    p.require(created, {"id": p.INT, "name": p.STR}, "channel/create")
    p.require_each(created["keys"], p.ANDROID_CHANNEL_KEY, "channel/create keys")
    channel_id = created["id"]
    group = {
        "name": "droid-model",
        "mode": 3,
        "items": [{"channel_id": channel_id, "model_name": "gpt-4o"}],
    }
    made = envelope_data(await app.post("/api/v1/group/create", json=group))
    p.require(made, {"id": p.INT, "name": p.STR}, "group/create")
    assert made["mode"] == "failover"
    p.require_each(made["items"], p.ANDROID_GROUP_ITEM, "group/create items")
    return channel_id, made["id"]


async def test_every_route_of_octopus_api_service(running: Running) -> None:
    fake = running.fake
    fake.models["droid"] = ["gpt-4o", "gpt-4o-mini"]
    base = fake.base("droid", WireFormat.OPENAI_CHAT)
    app = await _android(running)
    try:
        await _every_route(app, running, base)
    finally:
        await app.aclose()


async def _every_route(app: httpx.AsyncClient, running: Running, base: str) -> None:
    assert envelope_data(await app.get("/api/v1/user/status")) == "ok"
    channel_id, group_id = await _channel_and_group(app, base)

    # API keys: create (Go's `api_key` in the answer), then one real request through the gateway
    made = envelope_data(await app.post("/api/v1/apikey/create", json={"name": "phone"}))
    p.require(made, p.ANDROID_API_KEY, "apikey/create")
    client = openai.AsyncOpenAI(base_url=running.url + "/v1", api_key=made["api_key"])
    async with client:
        await client.chat.completions.create(
            model="droid-model", messages=[{"role": "user", "content": "hi"}]
        )
    keys = envelope_data(await app.get("/api/v1/apikey/list"))
    p.require_each(keys, p.ANDROID_API_KEY, "apikey/list")
    shown = keys[0]
    mutation = {
        "id": shown["id"],
        "name": "phone-2",
        "api_key": shown["api_key"],
        "expire_at": 0,
        "max_cost": 0.0,
        "supported_models": "",
    }
    updated = envelope_data(await app.post("/api/v1/apikey/update", json=mutation))
    p.require(updated, p.ANDROID_API_KEY, "apikey/update")

    await _stats_and_logs(app)

    # channels: list, update (keys_to_add / keys_to_delete), fetch-model, sync, enable
    listed = envelope_data(await app.get("/api/v1/channel/list"))
    p.require_each(listed, {"name": p.STR}, "channel/list")
    first_key = listed[0]["keys"][0]["id"]
    change = {
        "id": channel_id,
        "keys_to_add": [{"channel_key": "sk-droid-second-987654321"}],
        "keys_to_delete": [first_key],
    }
    changed = envelope_data(await app.post("/api/v1/channel/update", json=change))
    assert [k["channel_key"][-4:] for k in changed["keys"]] == ["4321"]
    probe = {
        "type": 0,
        "base_urls": [{"url": base}],
        "keys": [{"channel_key": "sk-droid-x-0123456789"}],
    }
    models = envelope_data(await app.post("/api/v1/channel/fetch-model", json=probe))
    assert models == ["gpt-4o", "gpt-4o-mini"]
    envelope_data(await app.post("/api/v1/channel/sync", json={}))
    envelope_data(
        await app.post("/api/v1/channel/enable", json={"id": channel_id, "enabled": False})
    )

    # groups: update with items_to_add (kotlinx leaves out the empty lists)
    change = {
        "id": group_id,
        "items_to_add": [{"channel_id": channel_id, "model_name": "gpt-4o-mini"}],
    }
    envelope_data(await app.post("/api/v1/group/update", json=change))
    groups = envelope_data(await app.get("/api/v1/group/list"))
    p.require_each(groups, {"name": p.STR}, "group/list")
    (group,) = [g for g in groups if g["id"] == group_id]
    assert sorted(i["model_name"] for i in group["items"]) == ["gpt-4o", "gpt-4o-mini"], group

    # models and prices
    p.require_each(
        envelope_data(await app.get("/api/v1/model/list")), p.ANDROID_LLM_INFO, "model/list"
    )
    p.require_each(
        envelope_data(await app.get("/api/v1/model/channel")),
        p.ANDROID_LLM_CHANNEL,
        "model/channel",
    )
    refreshed = await app.post("/api/v1/model/update-price", json={})
    # no models.dev URL in tests: always this one answer, never the network
    assert refreshed.json()["code"] == 502, refreshed.text
    assert "no URL configured" in refreshed.json()["message"]
    assert isinstance(envelope_data(await app.get("/api/v1/model/last-update-time")), str)

    await _settings_and_backup(app)

    assert isinstance(envelope_data(await app.get("/api/v1/update/now-version")), str)
    latest = await app.get("/api/v1/update")
    assert latest.json()["code"] == 502, latest.text  # the releases URL refuses: a clear error
    assert latest.json()["message"].startswith("could not check for updates"), latest.text
    assert (await app.post("/api/v1/update", json={})).json()["code"] == 501

    envelope_data(await app.delete(f"/api/v1/apikey/delete/{shown['id']}"))
    envelope_data(await app.delete(f"/api/v1/group/delete/{group_id}"))
    envelope_data(await app.delete(f"/api/v1/channel/delete/{channel_id}"))


async def _stats_and_logs(app: httpx.AsyncClient) -> None:
    for _ in range(100):  # the log writer flushes every half second
        total = envelope_data(await app.get("/api/v1/stats/total"))
        assert isinstance(total, dict)
        if total["request_success"] == 1:
            break
        await asyncio.sleep(0.1)
    assert total["request_success"] == 1
    p.require(envelope_data(await app.get("/api/v1/stats/today")), p.ANDROID_STATS_DAILY, "today")
    daily = envelope_data(await app.get("/api/v1/stats/daily"))
    p.require_each(daily, p.ANDROID_STATS_DAILY, "stats/daily")
    assert daily, "one request was made today"
    p.require_each(
        envelope_data(await app.get("/api/v1/stats/hourly")), p.ANDROID_STATS_HOURLY, "hourly"
    )
    assert isinstance(envelope_data(await app.get("/api/v1/stats/apikey")), list)
    logs = envelope_data(await app.get("/api/v1/log/list", params={"page": 1, "page_size": 20}))
    p.require_each(logs, p.ANDROID_RELAY_LOG, "log/list")
    assert [r["request_model_name"] for r in logs] == ["droid-model"]
    cleared = await app.delete("/api/v1/log/clear")
    assert cleared.status_code in (200, 204)


async def _settings_and_backup(app: httpx.AsyncClient) -> None:
    settings = envelope_data(await app.get("/api/v1/setting/list"))
    p.require_each(settings, p.ANDROID_SETTING, "setting/list")
    chosen = {"key": "sync_llm_interval", "value": "12"}
    p.require(
        envelope_data(await app.post("/api/v1/setting/set", json=chosen)), p.ANDROID_SETTING, "set"
    )
    exported = await app.get(
        "/api/v1/setting/export", params={"include_logs": "false", "include_stats": "true"}
    )
    assert exported.status_code == 200
    dump = json.loads(exported.content)
    files = {"file": ("octopus.json", json.dumps(dump).encode(), "application/json")}
    imported = envelope_data(await app.post("/api/v1/setting/import", files=files))
    p.require(imported, p.ANDROID_IMPORT, "setting/import")
    assert all(isinstance(v, int) for v in imported["rows_affected"].values())
