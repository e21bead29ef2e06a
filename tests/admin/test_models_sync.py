"""fetch-model and the model auto-sync against a fake provider on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from octopus.protocols import WireFormat
from tests.admin.conftest import create_channel, data, error
from tests.fakes.upstream import FakeUpstream, Fault
from tests.harness import Gateway, admin_client, serve, sqlite_settings

KEY = "sk-upstream-0123456789abcdef"


async def test_fetch_model_each_type(admin: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    for kind in WireFormat:
        tag = f"t-{kind.value}"
        upstream.models[tag] = ["gpt-4o", "gpt-4o-mini", "o3", "text-embedding-3"]
        body = {"type": kind.value, "base_url": upstream.base(tag, kind), "key": KEY}
        models = data(await admin.post("/api/v1/channel/fetch-model", json=body))
        assert models == upstream.models[tag], kind
        filtered = data(
            await admin.post("/api/v1/channel/fetch-model", json={**body, "match_regex": "^gpt-4o"})
        )
        assert filtered == ["gpt-4o", "gpt-4o-mini"]
    anthropic = upstream.calls("t-anthropic")
    assert anthropic[0].headers["x-api-key"] == KEY
    assert len(anthropic) >= 2  # paginated (two ids per page)
    assert upstream.calls("t-openai")[0].headers["authorization"] == f"Bearer {KEY}"


async def test_fetch_model_with_saved_channel_and_headers(
    admin: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.models["saved"] = ["m-1", "m-2"]
    channel = await create_channel(
        admin,
        base_url=upstream.base("saved", WireFormat.OPENAI_CHAT),
        key=None,
        keys=[{"key": "sk-disabled-0123456789", "enabled": False}, {"key": KEY}],
        custom_header=[{"header_key": "X-Org", "header_value": "acme"}],
    )
    models = data(await admin.post("/api/v1/channel/fetch-model", json={"id": channel["id"]}))
    assert models == ["m-1", "m-2"]
    sent = upstream.calls("saved")[-1].headers
    assert sent["authorization"] == f"Bearer {KEY}"
    assert sent["x-org"] == "acme"
    masked = {"id": channel["id"], "key": channel["keys"][1]["key"], "match_regex": "2$"}
    assert data(await admin.post("/api/v1/channel/fetch-model", json=masked)) == ["m-2"]


async def test_fetch_model_errors(
    admin: httpx.AsyncClient, upstream: FakeUpstream, refused_port: int
) -> None:
    base = upstream.base("bad", WireFormat.OPENAI_CHAT)
    upstream.script("bad", Fault(status=401))
    body = {"type": "openai", "base_url": base, "key": KEY}
    message = error(await admin.post("/api/v1/channel/fetch-model", json=body), 401)
    assert message.startswith("upstream responded 401")
    assert KEY not in message
    closed = {**body, "base_url": f"http://127.0.0.1:{refused_port}/v1"}
    assert error(await admin.post("/api/v1/channel/fetch-model", json=closed), 502)
    no_key = await admin.post("/api/v1/channel/fetch-model", json={**body, "key": ""})
    assert "'key' is required" in error(no_key, 400)
    bad_type = await admin.post("/api/v1/channel/fetch-model", json={**body, "type": "x"})
    assert "type must be one of" in error(bad_type, 400)
    unknown = await admin.post("/api/v1/channel/fetch-model", json={"id": 4242})
    assert error(unknown, 404) == "channel 4242 not found"


async def test_sync_now_updates_models_and_groups(
    gateway: Gateway, admin: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.models["sync"] = ["old-1", "old-2"]
    base = upstream.base("sync", WireFormat.OPENAI_CHAT)
    synced = await create_channel(
        admin, base_url=base, key=KEY, model="old-1,old-2", custom_model="mine", auto_sync=True
    )
    manual = await create_channel(admin, name="manual", base_url=base, key=KEY, model="old-1")
    data(
        await admin.post(
            "/api/v1/group/create",
            json={
                "name": "g",
                "items": [
                    {"channel_id": synced["id"], "model_name": "old-1"},
                    {"channel_id": synced["id"], "model_name": "old-2"},
                    {"channel_id": synced["id"], "model_name": "mine"},
                ],
            },
        )
    )
    before = data(await admin.get("/api/v1/channel/last-sync-time"))
    upstream.models["sync"] = ["old-2", "new-1", "mine", "new-1"]
    await asyncio.sleep(1.1)  # the time has one-second resolution
    data(await admin.post("/api/v1/channel/sync", json={}))
    channels = {c["name"]: c for c in data(await admin.get("/api/v1/channel/list"))}
    assert channels["primary"]["model"] == "old-2,new-1"
    assert channels["primary"]["custom_model"] == "mine"
    assert channels["manual"]["model"] == manual["model"]  # auto_sync off: untouched
    items = data(await admin.get("/api/v1/group/list"))[0]["items"]
    assert sorted(i["model_name"] for i in items) == ["mine", "old-2"]
    assert gateway.app.services.catalog.current.channels[synced["id"]].models == {
        "old-2",
        "new-1",
        "mine",
    }
    assert data(await admin.get("/api/v1/channel/last-sync-time")) > before


async def test_sync_busy_and_failures(admin: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    upstream.models["slow"] = ["a"]
    await create_channel(
        admin, base_url=upstream.base("slow", WireFormat.OPENAI_CHAT), auto_sync=True
    )
    upstream.script("slow", Fault(delay=1.0))
    first = asyncio.create_task(admin.post("/api/v1/channel/sync", json={}))
    await asyncio.sleep(0.3)
    busy = await admin.post("/api/v1/channel/sync", json={})
    assert error(busy, 409) == "model sync already running"
    data(await first)
    upstream.script("slow", Fault(status=500))
    failed = error(await admin.post("/api/v1/channel/sync", json={}), 502)
    assert failed.startswith("channel primary: upstream responded 500")


async def test_sync_runs_at_startup_unless_disabled(tmp_path: Path, upstream: FakeUpstream) -> None:
    settings = sqlite_settings(tmp_path)
    upstream.models["boot"] = ["first"]
    async with serve(settings) as gateway:
        client = await admin_client(gateway)
        base = upstream.base("boot", WireFormat.OPENAI_CHAT)
        await create_channel(client, base_url=base, model="", auto_sync=True)
        data(
            await client.post("/api/v1/setting/set", json={"key": "sync_llm_interval", "value": 0})
        )
        await client.aclose()
    assert upstream.calls("boot") == []
    async with serve(settings) as gateway:
        await asyncio.sleep(0.3)
    assert upstream.calls("boot") == []  # interval 0: no sync, not even at start-up
    async with serve(settings) as gateway:
        client = await admin_client(gateway)
        data(
            await client.post(
                "/api/v1/setting/set", json={"key": "sync_llm_interval", "value": "12"}
            )
        )
        await client.aclose()
    async with serve(settings) as gateway:
        for _ in range(100):
            if gateway.app.services.catalog.current.channels[1].models:
                break
            await asyncio.sleep(0.05)
        assert gateway.app.services.catalog.current.channels[1].models == {"first"}
    assert len(upstream.calls("boot")) == 1
