"""Channel CRUD through the real server on every database: keys masked, models normalised,
group items follow the channel's models, the routing catalog reloads after each write."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from octopus.routing.catalog import Catalog
from octopus.store import tables as t
from tests.admin.conftest import CHANNEL, create_channel, data, error
from tests.harness import Gateway


def catalog(gateway: Gateway) -> Catalog:
    current: Catalog = gateway.app.services.catalog.current
    return current


async def test_create_list_update_enable_delete(
    gateway_db: Gateway, admin_db: httpx.AsyncClient
) -> None:
    created = await create_channel(admin_db, custom_model="gpt-b, own-1", channel_proxy="")
    assert created["id"] > 0
    assert created["model"] == "gpt-a"  # custom models win and leave `model`
    assert created["custom_model"] == "gpt-b,own-1"
    assert [k["key"] for k in created["keys"]] == ["sk-fi…abcd", "sk-se…wxyz"]
    assert all(k["enabled"] and k["disabled_reason"] == "" for k in created["keys"])
    assert "stats" in created
    routed = catalog(gateway_db).channels[created["id"]]
    assert routed.models == {"gpt-a", "gpt-b", "own-1"}
    assert [k.secret for k in routed.keys] == [
        "sk-first-0123456789abcd",
        "sk-second-0123456789wxyz",
    ]

    listed = data(await admin_db.get("/api/v1/channel/list"))
    assert [c["name"] for c in listed] == ["primary"]
    assert "sk-first-0123456789abcd" not in str(listed)

    first_key, second_key = created["keys"]
    updated = data(
        await admin_db.post(
            "/api/v1/channel/update",
            json={
                "id": created["id"],
                "name": "renamed",
                "keys": [
                    {"id": first_key["id"], "key": first_key["key"], "remark": "kept"},
                    {"key": "sk-third-0123456789zzzz", "enabled": False},
                ],
            },
        )
    )
    assert updated["name"] == "renamed"
    assert updated["base_url"] == CHANNEL["base_url"]  # untouched fields stay
    assert [(k["id"], k["key"], k["remark"]) for k in updated["keys"][:1]] == [
        (first_key["id"], "sk-fi…abcd", "kept")
    ]
    assert second_key["id"] not in [k["id"] for k in updated["keys"]]
    assert updated["keys"][1]["enabled"] is False
    secrets = [k.secret for k in catalog(gateway_db).channels[created["id"]].keys]
    assert secrets == ["sk-first-0123456789abcd", "sk-third-0123456789zzzz"]

    data(
        await admin_db.post("/api/v1/channel/enable", json={"id": created["id"], "enabled": False})
    )
    assert catalog(gateway_db).channels[created["id"]].enabled is False
    assert data(await admin_db.get("/api/v1/channel/list"))[0]["enabled"] is False

    data(await admin_db.delete(f"/api/v1/channel/delete/{created['id']}"))
    assert data(await admin_db.get("/api/v1/channel/list")) == []
    assert catalog(gateway_db).channels == {}
    assert error(await admin_db.delete(f"/api/v1/channel/delete/{created['id']}"), 404)


async def test_keys_in_the_database_and_reenable(
    gateway_db: Gateway, admin_db: httpx.AsyncClient
) -> None:
    created = await create_channel(
        admin_db, key=None, keys=[{"key": "sk-one-0123456789abcd", "remark": "team a"}]
    )
    key_id = created["keys"][0]["id"]
    recorder = gateway_db.app.services.channel_events
    recorder.key_disabled(created["id"], key_id, "upstream 401: invalid key")
    await recorder.drain()
    shown = data(await admin_db.get("/api/v1/channel/list"))[0]["keys"][0]
    assert shown["enabled"] is False
    assert shown["disabled_reason"] == "upstream 401: invalid key"
    assert catalog(gateway_db).channels[created["id"]].keys[0].enabled is False

    again = data(
        await admin_db.post(
            "/api/v1/channel/update",
            json={"id": created["id"], "keys": [{"id": key_id, "enabled": True}]},
        )
    )
    assert again["keys"] == [
        {
            "id": key_id,
            "channel_id": created["id"],
            "key": "sk-on…abcd",
            "channel_key": "sk-on…abcd",  # the Go v0.9 name
            "enabled": True,
            "disabled_reason": "",
            "remark": "team a",
            "name": "",  # Go v0.13 key names
        }
    ]
    assert catalog(gateway_db).channels[created["id"]].keys[0].enabled is True
    sessions = gateway_db.app.services.sessions
    async with sessions() as session:
        stored = (await session.execute(select(t.ChannelKey.key))).scalars().all()
    assert stored == ["sk-one-0123456789abcd"]


async def test_models_change_drops_group_items(
    gateway_db: Gateway, admin_db: httpx.AsyncClient
) -> None:
    channel = await create_channel(admin_db, model="m1,m2,m3", custom_model="")
    group = data(
        await admin_db.post(
            "/api/v1/group/create",
            json={
                "name": "g",
                "mode": "manual",
                "items": [
                    {"channel_id": channel["id"], "model_name": name, "priority": i}
                    for i, name in enumerate(["m1", "m2", "m3"])
                ],
            },
        )
    )
    m2 = next(i["id"] for i in group["items"] if i["model_name"] == "m2")
    data(await admin_db.post(f"/api/v1/group/active/{group['id']}", json={"item_id": m2}))

    data(
        await admin_db.post(
            "/api/v1/channel/update",
            json={"id": channel["id"], "model": "m1", "custom_model": "m3"},
        )
    )
    after = data(await admin_db.get("/api/v1/group/list"))[0]
    assert sorted(i["model_name"] for i in after["items"]) == ["m1", "m3"]
    assert after["active_item_id"] == 0
    members = catalog(gateway_db).groups["g"].members
    assert sorted(m.model_name for m in members) == ["m1", "m3"]

    data(await admin_db.delete(f"/api/v1/channel/delete/{channel['id']}"))
    assert data(await admin_db.get("/api/v1/group/list"))[0]["items"] == []
    assert catalog(gateway_db).groups["g"].members == ()


async def test_model_list_normalisation(admin: httpx.AsyncClient) -> None:
    created = await create_channel(admin, model=[" a ", "b,,c", "a", "d"], custom_model="d, e ,e,")
    assert (created["model"], created["custom_model"]) == ("a,b,c", "d,e")
    updated = data(
        await admin.post("/api/v1/channel/update", json={"id": created["id"], "custom_model": "a"})
    )
    assert (updated["model"], updated["custom_model"]) == ("b,c", "a")


async def test_update_with_masked_key_keeps_keys(admin: httpx.AsyncClient) -> None:
    created = await create_channel(admin)
    shown = "\n".join(k["key"] for k in created["keys"])
    updated = data(
        await admin.post("/api/v1/channel/update", json={"id": created["id"], "key": shown})
    )
    assert updated["keys"] == created["keys"]
    # the same full key sent again is the stored key (same id), a new one is added
    replaced = data(
        await admin.post(
            "/api/v1/channel/update",
            json={"id": created["id"], "key": "sk-first-0123456789abcd,sk-new-0123456789qqqq"},
        )
    )
    assert replaced["keys"][0]["id"] == created["keys"][0]["id"]
    assert [k["key"] for k in replaced["keys"]] == ["sk-fi…abcd", "sk-ne…qqqq"]


BAD_CHANNELS: list[tuple[dict[str, Any], str]] = [
    ({"name": "  "}, "'name' must not be empty"),
    ({"name": None}, "'name' is required"),
    (
        {"type": "doubao"},
        "type must be one of openai, openai_responses, anthropic, gemini, volcengine",
    ),
    ({"type": 9}, "'type' 9 is not a known channel type number (0-5)"),
    ({"base_url": "ftp://x/v1"}, "base_url must be an http:// or https:// URL with a host"),
    ({"base_url": "https:///v1"}, "base_url must be an http:// or https:// URL with a host"),
    ({"param_override": "[1]"}, "param_override must be a JSON object"),
    ({"param_override": "{bad"}, "param_override must be a JSON object"),
    (
        {"param_override": {"model": "x", "stream": True}},
        "param_override may not set model, stream",
    ),
    ({"custom_header": {"a": "b"}}, "custom_header must be a list of {header_key, header_value}"),
    (
        {"custom_header": [{"header_key": "Authorization", "header_value": "x"}]},
        "cannot be overridden",
    ),
    (
        {"custom_header": [{"header_key": "bad header", "header_value": "x"}]},
        "not a valid header name",
    ),
    ({"match_regex": "gpt-(4"}, "match_regex does not compile"),
    ({"channel_proxy": "ftp://proxy:1"}, "channel_proxy must use the scheme http, https or socks5"),
    ({"channel_proxy": "socks5://"}, "channel_proxy must include a host"),
    ({"enabled": "yes"}, "'enabled' must be true or false"),
    ({"model": 5}, "'model' must be a comma-separated string or a list"),
    ({"keys": [{"remark": "no key"}]}, "keys[0]: 'key' is required for a new key"),
    ({"keys": ["sk-aaaaaaaaaaaaaa", "sk-aaaaaaaaaaaaaa"]}, "keys[1]: the same key is listed twice"),
    ({"key": "sk-ab…wxyz"}, "send the full key, not the masked form"),
]


@pytest.mark.parametrize(("change", "message"), BAD_CHANNELS)
async def test_create_validation(
    admin: httpx.AsyncClient, change: dict[str, Any], message: str
) -> None:
    body = {**CHANNEL, **change}
    assert message in error(await admin.post("/api/v1/channel/create", json=body), 400)
    assert data(await admin.get("/api/v1/channel/list")) == []


async def test_write_refusals(admin: httpx.AsyncClient) -> None:
    first = await create_channel(admin)
    await create_channel(admin, name="second")
    duplicate = await admin.post("/api/v1/channel/create", json=CHANNEL)
    assert error(duplicate, 400) == "a channel named 'primary' already exists"
    rename = await admin.post("/api/v1/channel/update", json={"id": first["id"], "name": "second"})
    assert error(rename, 400) == "a channel named 'second' already exists"
    missing = await admin.post("/api/v1/channel/update", json={"id": 999, "name": "x"})
    assert error(missing, 404) == "channel 999 not found"
    foreign = await admin.post(
        "/api/v1/channel/update", json={"id": first["id"], "keys": [{"id": 999}]}
    )
    assert error(foreign, 400) == f"key 999 does not belong to channel {first['id']}"
    no_id = await admin.post("/api/v1/channel/update", json={"name": "x"})
    assert "'id' must be a positive integer" in error(no_id, 400)
    enable = await admin.post("/api/v1/channel/enable", json={"id": first["id"]})
    assert "'enabled' is required" in error(enable, 400)
    form = await admin.post("/api/v1/channel/create", data={"name": "x"})
    assert "Content-Type must be application/json" in error(form, 415)
    assert error(await admin.delete("/api/v1/channel/delete/abc"), 400)


async def test_routing_fields_reach_the_catalog(gateway: Gateway, admin: httpx.AsyncClient) -> None:
    created = await create_channel(
        admin,
        proxy=True,
        param_override='{"temperature": 0.5, "metadata": {"a": 1}}',
        custom_header=[{"header_key": "X-Team", "header_value": "blue"}],
    )
    routed = catalog(gateway).channels[created["id"]]
    assert routed.proxy_url is None  # proxy on, but neither a channel nor a global proxy
    assert dict(routed.param_override) == {"temperature": b"0.5", "metadata": b'{"a":1}'}
    assert routed.custom_headers == (("X-Team", "blue"),)
    data(
        await admin.post(
            "/api/v1/setting/set", json={"key": "proxy_url", "value": "http://127.0.0.1:7890"}
        )
    )
    assert catalog(gateway).channels[created["id"]].proxy_url == "http://127.0.0.1:7890"
    data(
        await admin.post(
            "/api/v1/channel/update",
            json={"id": created["id"], "channel_proxy": "socks5://10.0.0.1:1080"},
        )
    )
    assert catalog(gateway).channels[created["id"]].proxy_url == "socks5://10.0.0.1:1080"
    data(await admin.post("/api/v1/channel/update", json={"id": created["id"], "proxy": False}))
    assert catalog(gateway).channels[created["id"]].proxy_url is None
