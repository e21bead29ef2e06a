"""all-api-hub's Octopus adapter replayed against `octopus start`: every request it makes, in both
of its contracts, with the fields its code reads or validates (tests/compat/parsers.py)."""

from __future__ import annotations

import datetime
import time

import httpx

from octopus.protocols import WireFormat
from tests.compat.conftest import Running, envelope_data
from tests.compat.parsers import HUB_LEGACY_CHANNEL, hub_current_channel, require_each
from tests.harness import TEST_ADMIN_PASSWORD

UPSTREAM_MODELS = ["gpt-4o", "gpt-4o-mini"]


async def _login(hub: httpx.AsyncClient) -> dict[str, str]:
    """auth.ts: POST JSON {username, password} (no expire); the envelope's code must be 200."""
    data = envelope_data(
        await hub.post(
            "/api/v1/user/login", json={"username": "admin", "password": TEST_ADMIN_PASSWORD}
        )
    )
    assert isinstance(data, dict)
    return data


async def test_login_selects_the_jwt_contract_with_a_usable_expiry(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, timeout=30) as hub:
        data = await _login(hub)
    # isLegacyLoginResponse: a non-empty string token and a string expire_at ...
    assert isinstance(data["token"], str)
    assert data["token"]
    assert isinstance(data["expire_at"], str)
    # ... that `new Date(expire_at)` reads as a time beyond its one-minute refresh margin
    expires = datetime.datetime.fromisoformat(data["expire_at"])
    assert expires.tzinfo is not None
    assert expires.timestamp() > time.time() + 5 * 60


async def test_legacy_contract_requests(running: Running) -> None:
    fake = running.fake
    fake.models["hub"] = UPSTREAM_MODELS
    base = fake.base("hub", WireFormat.OPENAI_CHAT)
    async with httpx.AsyncClient(base_url=running.url, timeout=30) as hub:
        token = (await _login(hub))["token"]
        hub.cookies.clear()  # the legacy codec authenticates with the Bearer token alone
        hub.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})

        # FetchRemoteModels without a saved channel: {type, base_urls, keys, proxy}
        probe = {
            "type": 0,
            "base_urls": [{"url": base}],
            "keys": [{"enabled": True, "channel_key": "sk-hub-first-0123456789"}],
            "proxy": False,
        }
        assert envelope_data(await hub.post("/api/v1/channel/fetch-model", json=probe)) == (
            UPSTREAM_MODELS
        )
        assert fake.calls("hub")[-1].headers["authorization"] == "Bearer sk-hub-first-0123456789"

        # CreateChannel: encodeCreate (numeric type, base_urls, keys of {channel_key}, auto_group)
        create = {
            "name": "hub-channel",
            "type": 0,
            "enabled": True,
            "base_urls": [{"url": base}],
            "keys": [{"enabled": True, "channel_key": "sk-hub-first-0123456789"}],
            "model": "gpt-4o,gpt-4o-mini",
            "custom_model": "",
            "proxy": False,
            "auto_sync": False,
            "auto_group": 0,
            "custom_header": [],
        }
        created = envelope_data(await hub.post("/api/v1/channel/create", json=create))
        require_each([created], HUB_LEGACY_CHANNEL, "create")

        # ListChannels: the legacy codec hands data through as OctopusChannel[]
        listed = envelope_data(await hub.get("/api/v1/channel/list"))
        require_each(listed, HUB_LEGACY_CHANNEL, "channel/list")
        source = next(c for c in listed if c["name"] == "hub-channel")
        assert source["base_urls"][0]["url"] == base
        primary = source["keys"][0]
        assert isinstance(primary["id"], int)

        # UpdateChannel: encodeUpdate keeps base_urls and replaces the first key by its id
        update = {
            "id": source["id"],
            "name": "hub-channel",
            "type": 0,
            "enabled": True,
            "base_urls": [{"url": base, "delay": 0}],
            "model": "gpt-4o",
            "proxy": False,
            "auto_sync": False,
            "auto_group": 0,
            "keys_to_update": [
                {
                    "id": primary["id"],
                    "enabled": True,
                    "channel_key": "sk-hub-second-987654321",
                    "remark": "",
                }
            ],
        }
        updated = envelope_data(await hub.post("/api/v1/channel/update", json=update))
        require_each([updated], HUB_LEGACY_CHANNEL, "update")
        assert updated["model"] == "gpt-4o"
        assert [k["id"] for k in updated["keys"]] == [primary["id"]]
        assert updated["keys"][0]["channel_key"].endswith("4321")

        # FetchRemoteModels for a saved channel: preserveProbeKeys sends the stored ids along
        saved_probe = {
            "type": 0,
            "base_urls": [{"url": base, "delay": 0}],
            "keys": [
                {"id": primary["id"], "enabled": True, "channel_key": "sk-hub-second-987654321"}
            ],
            "proxy": False,
        }
        await hub.post("/api/v1/channel/fetch-model", json=saved_probe)
        assert fake.calls("hub")[-1].headers["authorization"] == "Bearer sk-hub-second-987654321"

        # ListAvailableModels and ListGroups: each entry's `name`
        models = envelope_data(await hub.get("/api/v1/model/list"))
        assert "gpt-4o" in [m["name"] for m in models]
        groups = envelope_data(await hub.get("/api/v1/group/list"))
        assert isinstance(groups, list)

        # DeleteChannel
        envelope_data(await hub.delete(f"/api/v1/channel/delete/{source['id']}"))
        assert envelope_data(await hub.get("/api/v1/channel/list")) == []


async def test_current_contract_requests(running: Running) -> None:
    """The cookie-era codec: `auth` cookie only, strict channel parsing, v0.11 bodies."""
    fake = running.fake
    fake.models["cur"] = UPSTREAM_MODELS
    base = fake.base("cur", WireFormat.OPENAI_CHAT)
    async with httpx.AsyncClient(base_url=running.url, timeout=30) as hub:
        await _login(hub)
        assert "auth" in hub.cookies
        hub.headers["Content-Type"] = "application/json"
        envelope_data(await hub.get("/api/v1/user/status"))  # the page hosting cookie requests

        probe = {
            "type": "openai",
            "base_url": base,
            "key": "sk-cur-first-0123456789",
            "proxy": False,
            "custom_header": [],
        }
        fetched = envelope_data(await hub.post("/api/v1/channel/fetch-model", json=probe))
        assert fetched == UPSTREAM_MODELS

        create = {
            "name": "cur-channel",
            "type": "openai",
            "enabled": True,
            "base_url": base,
            "key": "sk-cur-first-0123456789",
            "model": "gpt-4o",
            "proxy": False,
            "auto_sync": False,
            "custom_header": [],
        }
        created = envelope_data(await hub.post("/api/v1/channel/create", json=create))
        hub_current_channel(created)

        listed = envelope_data(await hub.get("/api/v1/channel/list"))
        assert isinstance(listed, list)
        assert listed
        for channel in listed:
            hub_current_channel(channel)

        channel_id = created["id"]
        update = {"id": channel_id, "key": "sk-cur-second-987654321", "model": "gpt-4o-mini"}
        updated = envelope_data(await hub.post("/api/v1/channel/update", json=update))
        hub_current_channel(updated)
        assert updated["key"].endswith("4321")
        assert updated["model"] == "gpt-4o-mini"

        envelope_data(await hub.get("/api/v1/model/list"))
        envelope_data(await hub.get("/api/v1/group/list"))
        envelope_data(await hub.delete(f"/api/v1/channel/delete/{channel_id}"))
