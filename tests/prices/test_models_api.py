"""/api/v1/model through the real server: hand-set prices, channel models, unpriced models,
the models.dev refresh (fake server) and manual prices surviving it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from octopus.pricing.cost import Price
from octopus.services.prices import PriceService
from tests.harness import Gateway
from tests.prices.conftest import data
from tests.prices.fake_http import FakeHttp


def prices(gateway: Gateway) -> PriceService:
    service: PriceService = gateway.app.services.prices
    return service


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def add_channel(admin: httpx.AsyncClient, name: str, models: str) -> int:
    body = {"name": name, "type": "openai", "base_url": "http://127.0.0.1:9/v1", "key": "sk-x"}
    created = data(await admin.post("/api/v1/channel/create", json={**body, "model": models}))
    channel_id: int = created["id"]
    return channel_id


def by_name(rows: list[dict[str, object]]) -> dict[object, dict[str, object]]:
    return {row["name"]: row for row in rows}


async def test_startup_refresh_then_hand_set_prices_win(
    gateway: Gateway, admin: httpx.AsyncClient, fake: FakeHttp
) -> None:
    await until(lambda: prices(gateway).last_update is not None)  # refreshed at start-up
    assert data(await admin.get("/api/v1/model/last-update-time")).endswith("Z")
    assert prices(gateway).price_for("gpt-4o") == Price(2.5, 10, 1.25)

    created = data(
        await admin.post(
            "/api/v1/model/create",
            json={"name": " GPT-4o ", "input": 1, "output": 2.5, "cache_read": 0.5},
        )
    )
    assert created["name"] == "gpt-4o"
    assert created["manual"] is True
    assert prices(gateway).price_for("openai/gpt-4o-2024-08-06") == Price(1, 2.5, 0.5)
    again = await admin.post("/api/v1/model/create", json={"name": "gpt-4o", "input": 3})
    assert again.status_code == 409
    assert again.json()["message"] == "model already exists"

    listed = by_name(data(await admin.get("/api/v1/model/list")))
    assert listed["gpt-4o"]["source"] == "manual"
    assert listed["gpt-4o"]["input"] == 1

    # the refresh (manual trigger) re-reads models.dev but the hand-set price stays
    fake.answer({"openai": {"models": {"gpt-4o": {
        "id": "gpt-4o", "family": "gpt", "modalities": {"output": ["text"]},
        "cost": {"input": 50, "output": 50},
    }}}})  # fmt: skip
    assert data(await admin.post("/api/v1/model/update-price", json={})) == {"count": 1}
    assert prices(gateway).price_for("gpt-4o") == Price(1, 2.5, 0.5)
    assert by_name(data(await admin.get("/api/v1/model/list")))["gpt-4o"]["input"] == 1

    # update edits it; delete falls back to models.dev
    updated = data(await admin.post("/api/v1/model/update", json={"name": "gpt-4o", "input": 7}))
    assert (updated["input"], updated["output"]) == (7, 0)
    assert prices(gateway).price_for("gpt-4o") == Price(7)
    assert data(await admin.post("/api/v1/model/delete", json={"name": "GPT-4O"})) is None
    assert prices(gateway).price_for("gpt-4o") == Price(50, 50)
    missing = await admin.post("/api/v1/model/delete", json={"name": "gpt-4o"})
    assert missing.status_code == 404


async def test_failed_refresh_is_an_envelope_error_and_keeps_prices(
    gateway: Gateway, admin: httpx.AsyncClient, fake: FakeHttp
) -> None:
    await until(lambda: prices(gateway).last_update is not None)
    fake.status, fake.body = 503, b'{"message": "busy"}'
    response = await admin.post("/api/v1/model/update-price", json={})
    assert response.status_code == 502
    assert response.json() == {"code": 502, "message": "could not update prices: HTTP 503: busy"}
    assert prices(gateway).price_for("claude-sonnet-4-5") == Price(4, 20, 0.4, 5)


async def test_channel_models_and_unpriced(gateway: Gateway, admin: httpx.AsyncClient) -> None:
    await until(lambda: prices(gateway).last_update is not None)
    first = await add_channel(admin, "one", "gpt-4o-mini-2024-07-18, mystery-7b")
    second = await add_channel(admin, "two", "claude-sonnet-4-5-20250929, mystery-7b, MyModel")
    listed = data(await admin.get("/api/v1/model/channel"))
    assert sorted((m["name"], m["channel_id"], m["channel_name"]) for m in listed) == sorted(
        [
            ("gpt-4o-mini-2024-07-18", first, "one"),
            ("mystery-7b", first, "one"),
            ("claude-sonnet-4-5-20250929", second, "two"),
            ("mystery-7b", second, "two"),
            ("MyModel", second, "two"),
        ]
    )
    assert all(m["enabled"] for m in listed)

    # the fake models.dev knows gpt-4o (which gpt-4o-mini-… contains) and claude-sonnet-4-5
    unpriced = data(await admin.get("/api/v1/model/unpriced"))
    assert unpriced == [
        {
            "name": "mystery-7b",
            "channels": [
                {"channel_id": first, "channel_name": "one"},
                {"channel_id": second, "channel_name": "two"},
            ],
        },
        {"name": "mymodel", "channels": [{"channel_id": second, "channel_name": "two"}]},
    ]
    data(await admin.post("/api/v1/model/update", json={"name": "mystery-7b", "input": 0.1}))
    data(await admin.post("/api/v1/model/create", json={"name": "mymodel", "output": 1}))
    assert data(await admin.get("/api/v1/model/unpriced")) == []

    listed_prices = by_name(data(await admin.get("/api/v1/model/list")))
    claude = listed_prices["claude-sonnet-4-5-20250929"]
    assert (claude["source"], claude["matched"], claude["input"]) == (
        "models.dev",
        "claude-sonnet-4-5",
        4,
    )
    assert listed_prices["mystery-7b"]["source"] == "manual"


async def test_price_input_is_validated(gateway: Gateway, admin: httpx.AsyncClient) -> None:
    for body, needle in [
        ({"input": 1}, "'name' is required"),
        ({"name": "  "}, "must not be empty"),
        ({"name": "x", "input": -1}, "'input' must be a non-negative number"),
        ({"name": "x", "output": "2"}, "'output' must be float"),
        ({"name": "x" * 200}, "longer than 191"),
    ]:
        response = await admin.post("/api/v1/model/create", json=body)
        assert response.status_code == 400, body
        assert needle in response.json()["message"]


async def test_routes_need_a_session(gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=gateway.url) as anonymous:
        for path in ("/api/v1/model/list", "/api/v1/model/unpriced", "/api/v1/update"):
            assert (await anonymous.get(path)).status_code == 401
