"""Group CRUD on every database: modes, relay_config validation, item validation, updates."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from octopus.records.group_mode import GroupMode
from octopus.routing.catalog import RelayConfig
from tests.admin.conftest import create_channel, data, error
from tests.harness import Gateway


async def _channels(client: httpx.AsyncClient) -> tuple[int, int]:
    one = await create_channel(client, name="one", model="m1,m2", custom_model="c1")
    two = await create_channel(client, name="two", model="m1,other")
    return one["id"], two["id"]


async def test_group_lifecycle(gateway_db: Gateway, admin_db: httpx.AsyncClient) -> None:
    one, two = await _channels(admin_db)
    created = data(
        await admin_db.post(
            "/api/v1/group/create",
            json={
                "name": "smart",
                "items": [
                    {"channel_id": one, "model_name": "m1", "priority": 1, "weight": 3},
                    {"channel_id": two, "model_name": "m1", "priority": 2},
                ],
                "relay_config": {"max_attempts": 2, "cooldown": 30, "sticky_seconds": 120.5},
            },
        )
    )
    assert created["mode"] == "failover"
    assert created["active_item_id"] == 0
    assert created["relay_config"]["max_attempts"] == 2
    assert created["relay_config"]["first_token_timeout"] == RelayConfig().first_token_timeout
    assert [(i["channel_id"], i["weight"]) for i in created["items"]] == [(one, 3), (two, 1)]
    routed = gateway_db.app.services.catalog.current.groups["smart"]
    assert routed.mode is GroupMode.FAILOVER
    assert routed.config == RelayConfig(max_attempts=2, cooldown=30.0, sticky_seconds=120.5)
    assert [(m.channel_id, m.model_name, m.weight) for m in routed.members] == [
        (one, "m1", 3),
        (two, "m1", 1),
    ]

    first, second = (i["id"] for i in created["items"])
    updated = data(
        await admin_db.post(
            "/api/v1/group/update",
            json={
                "id": created["id"],
                "name": "smarter",
                "mode": "weighted",
                "items_to_add": [{"channel_id": one, "model_name": "c1", "priority": 0}],
                "items_to_update": [{"id": second, "priority": -1, "weight": 5}],
                "items_to_delete": [first],
            },
        )
    )
    assert updated["name"] == "smarter"
    assert updated["mode"] == "weighted"
    assert [(i["model_name"], i["priority"], i["weight"]) for i in updated["items"]] == [
        ("m1", -1, 5),
        ("c1", 0, 1),
    ]
    assert updated["relay_config"]["max_attempts"] == 2  # not sent: kept
    current = gateway_db.app.services.catalog.current
    assert "smart" not in current.groups
    assert current.groups["smarter"].mode is GroupMode.WEIGHTED

    c1 = updated["items"][1]["id"]
    active = data(
        await admin_db.post(f"/api/v1/group/active/{created['id']}", json={"item_id": c1})
    )
    assert active["active_item_id"] == c1
    assert gateway_db.app.services.catalog.current.groups["smarter"].active_item_id == c1

    replaced = data(
        await admin_db.post(
            "/api/v1/group/update",
            json={
                "id": created["id"],
                "items": [
                    {"channel_id": one, "model_name": "c1", "priority": 9},
                    {"channel_id": one, "model_name": "m2"},
                ],
            },
        )
    )
    by_name = {i["model_name"]: i for i in replaced["items"]}
    assert set(by_name) == {"c1", "m2"}
    assert by_name["c1"]["id"] == c1  # same channel and model: same item
    assert by_name["c1"]["priority"] == 9
    assert replaced["active_item_id"] == c1

    deleted = await admin_db.delete(f"/api/v1/group/delete/{created['id']}")
    assert data(deleted) == "group deleted successfully"
    assert data(await admin_db.get("/api/v1/group/list")) == []
    assert gateway_db.app.services.catalog.current.groups == {}


@pytest.mark.parametrize("mode", [m.value for m in GroupMode])
async def test_every_mode(gateway: Gateway, admin: httpx.AsyncClient, mode: str) -> None:
    one, _ = await _channels(admin)
    body = {"name": f"g-{mode}", "mode": mode, "items": [{"channel_id": one, "model_name": "m1"}]}
    assert data(await admin.post("/api/v1/group/create", json=body))["mode"] == mode
    assert gateway.app.services.catalog.current.groups[f"g-{mode}"].mode.value == mode


BAD_CONFIGS: list[tuple[Any, str]] = [
    ([1], "relay_config: must be an object"),
    ({"max_attempts": 0}, "relay_config: max_attempts must be an integer between 1 and 100"),
    ({"max_attempts": 1.5}, "relay_config: max_attempts must be an integer between 1 and 100"),
    ({"first_token_timeout": 0}, "first_token_timeout must be a number between 1 and 3600"),
    ({"response_timeout": "60"}, "response_timeout must be a number between 1 and 86400"),
    ({"retry_interval": -1}, "retry_interval must be a number between 0 and 300"),
    ({"failure_threshold": True}, "failure_threshold must be an integer between 1 and 1000"),
    ({"request_deadline": 10**6}, "request_deadline must be a number between 1 and 86400"),
    ({"cooldown": 100, "cooldown_max": 50}, "relay_config: cooldown_max must be at least cooldown"),
    ({"retries": 3}, "relay_config: unknown key 'retries'"),
]


@pytest.mark.parametrize(("config", "message"), BAD_CONFIGS)
async def test_relay_config_validation(admin: httpx.AsyncClient, config: Any, message: str) -> None:
    response = await admin.post("/api/v1/group/create", json={"name": "g", "relay_config": config})
    assert message in error(response, 400)


async def test_reference_relay_config_names(gateway: Gateway, admin: httpx.AsyncClient) -> None:
    go = {
        "member_max_attempts": 4,
        "member_retry_interval_seconds": 3,
        "member_non_stream_response_timeout_seconds": 0,  # 0 = default, as the Go project does
        "member_stream_first_event_timeout_seconds": 45,
        "member_cooldown_seconds": 90,
        "member_affinity_seconds": 300,
    }
    created = data(await admin.post("/api/v1/group/create", json={"name": "g", "relay_config": go}))
    expected = RelayConfig(
        max_attempts=4,
        retry_interval=3.0,
        first_token_timeout=45.0,
        cooldown=90.0,
        sticky_seconds=300.0,
    )
    assert gateway.app.services.catalog.current.groups["g"].config == expected
    assert created["relay_config"]["response_timeout"] == RelayConfig().response_timeout


BAD_ITEMS: list[tuple[dict[str, Any], str]] = [
    ({"channel_id": 999, "model_name": "m1"}, "channel 999 not found"),
    ({"channel_id": "ONE", "model_name": "nope"}, "has no model 'nope'"),
    ({"channel_id": "ONE", "model_name": "other"}, "has no model 'other'"),
    ({"channel_id": "ONE", "model_name": " "}, "'model_name' must not be empty"),
    ({"channel_id": "ONE"}, "items[0]: 'model_name' is required"),
    ({"channel_id": "ONE", "model_name": "m1", "weight": 0}, "'weight' must be at least 1"),
    (
        {"channel_id": "ONE", "model_name": "m1", "priority": "high"},
        "'priority' must be an integer",
    ),
]


@pytest.mark.parametrize(("item", "message"), BAD_ITEMS)
async def test_item_validation(
    admin: httpx.AsyncClient, item: dict[str, Any], message: str
) -> None:
    one, _ = await _channels(admin)
    item = {**item, "channel_id": one} if item.get("channel_id") == "ONE" else item
    response = await admin.post("/api/v1/group/create", json={"name": "g", "items": [item]})
    assert message in error(response, 400)
    assert data(await admin.get("/api/v1/group/list")) == []


async def test_group_refusals(admin: httpx.AsyncClient) -> None:
    one, _ = await _channels(admin)
    item = {"channel_id": one, "model_name": "m1"}
    twice = await admin.post("/api/v1/group/create", json={"name": "g", "items": [item, item]})
    assert "listed twice" in error(twice, 400)
    bad_mode = await admin.post("/api/v1/group/create", json={"name": "g", "mode": "fastest"})
    assert error(bad_mode, 400) == (
        "mode must be one of round_robin, random, weighted, failover, manual, got 'fastest'"
    )
    group = data(await admin.post("/api/v1/group/create", json={"name": "g", "items": [item]}))
    again = await admin.post("/api/v1/group/create", json={"name": "g"})
    assert error(again, 400) == "a group named 'g' already exists"
    dup_add = await admin.post(
        "/api/v1/group/update", json={"id": group["id"], "items_to_add": [item]}
    )
    assert "listed twice" in error(dup_add, 400)
    foreign = await admin.post(
        "/api/v1/group/update", json={"id": group["id"], "items_to_delete": [12345]}
    )
    assert error(foreign, 400) == f"item 12345 does not belong to group {group['id']}"
    not_member = await admin.post(f"/api/v1/group/active/{group['id']}", json={"item_id": 777})
    assert error(not_member, 400) == f"item 777 does not belong to group {group['id']}"
    assert error(await admin.post("/api/v1/group/active/999", json={"item_id": 0}), 404)
    assert error(await admin.delete("/api/v1/group/delete/999"), 404) == "group 999 not found"


async def test_auto_add_candidates(admin: httpx.AsyncClient) -> None:
    one = await create_channel(
        admin, name="one", model="GPT-4o,gpt-4o-mini,claude", custom_model=""
    )
    two = await create_channel(admin, name="two", model="o3", custom_model="my-gpt-4O")
    found = data(await admin.post("/api/v1/group/auto-add", json={"name": "gpt-4o"}))
    assert found == [
        {"channel_id": one["id"], "channel_name": "one", "model_name": "GPT-4o"},
        {"channel_id": one["id"], "channel_name": "one", "model_name": "gpt-4o-mini"},
        {"channel_id": two["id"], "channel_name": "two", "model_name": "my-gpt-4O"},
    ]
    assert data(await admin.get("/api/v1/group/candidates", params={"name": "GPT-4O"})) == found
    assert error(await admin.get("/api/v1/group/candidates"), 400)
