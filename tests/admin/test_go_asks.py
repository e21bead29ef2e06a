"""What the Go project's users asked for: volcengine channels, rebuild-price, a chosen API key
value, Go v0.9 numbers for group modes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import openai

from tests.admin.conftest import data, error
from tests.fakes.upstream import FakeUpstream, Fault
from tests.harness import Gateway

ARK_ANSWER = {
    "id": "ark-1",
    "object": "chat.completion",
    "created": 1,
    "model": "doubao-seed-1-6",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ni hao"}, "finish_reason": "stop"}
    ],
    "usage": {
        "prompt_tokens": 20,
        "completion_tokens": 5,
        "total_tokens": 25,
        "prompt_tokens_details": {"cached_tokens": 8},
        "completion_tokens_details": {"reasoning_tokens": 3},
    },
}


async def _key(admin: httpx.AsyncClient, **extra: Any) -> str:
    made = data(await admin.post("/api/v1/apikey/create", json={"name": "k", **extra}))
    return str(made["api_key"])


async def _logged(admin: httpx.AsyncClient, count: int) -> list[dict[str, Any]]:
    for _ in range(100):
        page = data(await admin.get("/api/v1/log/page"))
        if page["total"] >= count:
            return list(page["items"])
        await asyncio.sleep(0.1)
    raise AssertionError("the request never reached the log")


async def test_volcengine_channel_lists_models_and_relays_under_api_v3(
    gateway: Gateway, admin: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.models["ark"] = ["doubao-seed-1-6", "deepseek-v3-1"]
    base = f"{upstream.url}/ark/api"  # the gateway adds Ark's /v3
    probe = {"type": "volcengine", "base_url": base, "key": "ark-key-0123456789"}
    assert data(await admin.post("/api/v1/channel/fetch-model", json=probe)) == [
        "doubao-seed-1-6",
        "deepseek-v3-1",
    ]
    assert upstream.calls("ark")[-1].path == "/api/v3/models"
    made = data(
        await admin.post(
            "/api/v1/channel/create", json={**probe, "name": "ark", "model": "doubao-seed-1-6"}
        )
    )
    assert made["type"] == "volcengine"
    items = [{"channel_id": made["id"], "model_name": "doubao-seed-1-6"}]
    data(await admin.post("/api/v1/group/create", json={"name": "doubao", "items": items}))
    upstream.script("ark", Fault(wire=[json.dumps(ARK_ANSWER).encode()]))
    async with openai.AsyncOpenAI(base_url=gateway.url + "/v1", api_key=await _key(admin)) as sdk:
        answer = await sdk.chat.completions.create(
            model="doubao", messages=[{"role": "user", "content": "hi"}]
        )
    assert answer.choices[0].message.content == "ni hao"
    assert upstream.calls("ark")[-1].path == "/api/v3/chat/completions"
    (logged,) = await _logged(admin, 1)
    assert (logged["input_tokens"], logged["output_tokens"]) == (20, 5)
    assert (logged["cache_read_tokens"], logged["reasoning_tokens"]) == (8, 3)


async def test_rebuild_price_overwrites_hand_set_prices(admin: httpx.AsyncClient) -> None:
    hand = {"name": "gpt-4o", "input": 99.0, "output": 99.0}
    data(await admin.post("/api/v1/model/create", json=hand))
    data(await admin.post("/api/v1/model/create", json={"name": "nobody-knows-me", "input": 5.0}))
    rebuilt = data(await admin.post("/api/v1/model/rebuild-price", json={}))
    assert rebuilt == {"count": 2}
    prices = {p["name"]: p for p in data(await admin.get("/api/v1/model/list"))}
    assert prices["gpt-4o"]["input"] not in (0.0, 99.0)  # the shipped models.dev price
    assert prices["gpt-4o"]["manual"] is False
    assert prices["nobody-knows-me"]["input"] == 0.0


async def test_a_chosen_api_key_value_works_once(
    gateway: Gateway, admin: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    chosen = "team-alpha-" + "x" * 24
    assert await _key(admin, api_key=chosen) == chosen
    listed = data(await admin.get("/api/v1/apikey/list"))
    assert chosen not in json.dumps(listed)  # only the masked form is shown afterwards
    assert listed[0]["api_key"] == "team…xxxx"
    refused = await admin.post("/api/v1/apikey/create", json={"name": "again", "api_key": chosen})
    assert "already exists" in error(refused, 400)
    short = await admin.post("/api/v1/apikey/create", json={"name": "s", "api_key": "x" * 31})
    assert "32-128 characters" in error(short, 400)
    spaced = await admin.post("/api/v1/apikey/create", json={"name": "s", "api_key": " " * 40})
    assert "letters, digits" in error(spaced, 400)
    async with httpx.AsyncClient(base_url=gateway.url) as client:
        models = await client.get("/v1/models", headers={"Authorization": f"Bearer {chosen}"})
    assert models.status_code == 200


async def test_group_modes_as_go_v09_numbers(
    admin: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    made = data(await admin.post("/api/v1/group/create", json={"name": "g", "mode": 1}))
    assert made["mode"] == "round_robin"
    changed = data(await admin.post("/api/v1/group/update", json={"id": made["id"], "mode": 4}))
    assert changed["mode"] == "weighted"
    refused = await admin.post("/api/v1/group/update", json={"id": made["id"], "mode": 9})
    assert "mode must be one of" in error(refused, 400)


async def test_copy_a_channel_with_its_keys(
    gateway: Gateway, admin: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    body = {
        "name": "main",
        "type": "anthropic",
        "base_url": f"{upstream.url}/main/v1",
        "keys": [{"key": "sk-ant-one-0123456789", "remark": "a"}, {"key": "sk-ant-two-0123456789"}],
        "model": "claude-x",
        "custom_header": [{"header_key": "x-team", "header_value": "blue"}],
    }
    made = data(await admin.post("/api/v1/channel/create", json=body))
    first = data(await admin.post(f"/api/v1/channel/copy/{made['id']}", json={}))
    second = data(await admin.post(f"/api/v1/channel/copy/{made['id']}", json={}))
    assert (first["name"], second["name"]) == ("main (copy)", "main (copy 2)")
    assert first["id"] not in (made["id"], second["id"])
    for field in ("type", "base_url", "model", "custom_header"):
        assert first[field] == made[field]
    assert [(k["key"], k["remark"]) for k in first["keys"]] == [
        (k["key"], k["remark"]) for k in made["keys"]
    ]
    assert {k["id"] for k in first["keys"]}.isdisjoint({k["id"] for k in made["keys"]})
    # the copy's keys are the real secrets: its model list fetch reaches the upstream with one
    upstream.models["main"] = ["claude-x"]
    fetched = data(await admin.post("/api/v1/channel/fetch-model", json={"id": first["id"]}))
    assert fetched == ["claude-x"]
    assert upstream.calls("main")[-1].headers["x-api-key"] == "sk-ant-one-0123456789"
    error(await admin.post("/api/v1/channel/copy/999", json={}), 404)


async def test_group_match_regex_drives_auto_add(admin: httpx.AsyncClient) -> None:
    channel = {
        "name": "many",
        "type": "openai",
        "base_url": "https://up.example/v1",
        "key": "sk-many-0123456789",
        "model": "claude-3-haiku,claude-sonnet-4,gpt-4o,my-claude-proxy",
    }
    data(await admin.post("/api/v1/channel/create", json=channel))
    made = data(
        await admin.post("/api/v1/group/create", json={"name": "claude", "match_regex": "^claude-"})
    )
    assert made["match_regex"] == "^claude-"
    picked = data(await admin.post("/api/v1/group/auto-add", json={"name": "claude"}))
    assert [c["model_name"] for c in picked] == ["claude-3-haiku", "claude-sonnet-4"]
    by_name = data(
        await admin.post("/api/v1/group/auto-add", json={"name": "claude", "match_regex": ""})
    )
    assert len(by_name) == 3  # no regex: every model containing the name
    asked = await admin.get("/api/v1/group/candidates", params={"name": "x", "match_regex": "4o$"})
    assert [c["model_name"] for c in data(asked)] == ["gpt-4o"]
    bad = await admin.post("/api/v1/group/update", json={"id": made["id"], "match_regex": "(["})
    assert "match_regex does not compile" in error(bad, 400)
    cleared = data(
        await admin.post("/api/v1/group/update", json={"id": made["id"], "match_regex": ""})
    )
    assert cleared["match_regex"] == ""
