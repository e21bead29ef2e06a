"""API keys on every database: shown once, stored as sha256, masked in lists, login by key."""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from octopus.store import tables as t
from tests.admin.conftest import data, error
from tests.harness import Gateway


async def test_create_list_update_delete(gateway_db: Gateway, admin_db: httpx.AsyncClient) -> None:
    created = data(
        await admin_db.post(
            "/api/v1/apikey/create",
            json={"name": "ci", "supported_models": ["g1", "g2, g1"], "max_rpm": 60, "max_cost": 2},
        )
    )
    key = created["api_key"]
    assert re.fullmatch(r"sk-octopus-[0-9A-Za-z]{48}", key)
    assert created["api_key_prefix"] == f"{key[:15]}…{key[-4:]}"
    assert created["supported_models"] == "g1,g2"
    assert (created["max_rpm"], created["max_cost"], created["enabled"]) == (60, 2.0, True)
    digest = hashlib.sha256(key.encode()).hexdigest()
    routed = gateway_db.app.services.catalog.current.keys[digest]
    assert (routed.id, routed.supported_models, routed.max_rpm) == (
        created["id"],
        frozenset({"g1", "g2"}),
        60,
    )

    async with gateway_db.app.services.sessions() as session:
        rows = (await session.execute(select(t.ApiKey))).scalars().all()
    assert [r.key_hash for r in rows] == [digest]
    assert all(key not in str(vars(r)) for r in rows)

    listed = data(await admin_db.get("/api/v1/apikey/list"))
    assert key not in str(listed)
    # the list shows Go's `api_key` masked, the same as `api_key_prefix`
    assert listed == [{**created, "api_key": created["api_key_prefix"]}]

    updated = data(
        await admin_db.post(
            "/api/v1/apikey/update",
            json={
                "id": created["id"],
                "enabled": False,
                "api_key": "sk-octopus-forged",
                "max_tpm": 5,
            },
        )
    )
    assert (updated["enabled"], updated["max_tpm"], updated["name"]) == (False, 5, "ci")
    assert updated["api_key_prefix"] == created["api_key_prefix"]
    assert gateway_db.app.services.catalog.current.keys[digest].enabled is False

    data(await admin_db.delete(f"/api/v1/apikey/delete/{created['id']}"))
    assert data(await admin_db.get("/api/v1/apikey/list")) == []
    assert gateway_db.app.services.catalog.current.keys == {}


async def test_login_with_the_key(gateway: Gateway, admin: httpx.AsyncClient) -> None:
    created = data(await admin.post("/api/v1/apikey/create", json={"name": "panel"}))
    key = created["api_key"]
    async with httpx.AsyncClient(base_url=gateway.url) as anonymous:
        bearer = await anonymous.get(
            "/api/v1/apikey/login", headers={"Authorization": f"Bearer {key}"}
        )
        assert data(bearer) is None
        assert data(await anonymous.get("/api/v1/apikey/login", headers={"x-api-key": key})) is None
        assert error(await anonymous.get("/api/v1/apikey/login"), 401)
        forged = "sk-octopus-" + "A" * 48
        assert error(
            await anonymous.get("/api/v1/apikey/login", headers={"x-api-key": forged}), 401
        )
        # the key is no admin session
        assert error(await anonymous.get("/api/v1/apikey/list", headers={"x-api-key": key}), 401)

        data(
            await admin.post("/api/v1/apikey/update", json={"id": created["id"], "enabled": False})
        )
        assert "disabled" in error(
            await anonymous.get("/api/v1/apikey/login", headers={"x-api-key": key}), 401
        )

        past = int(time.time()) - 10
        body = {"id": created["id"], "enabled": True, "expire_at": past}
        data(await admin.post("/api/v1/apikey/update", json=body))
        assert "expired" in error(
            await anonymous.get("/api/v1/apikey/login", headers={"x-api-key": key}), 401
        )


BAD_KEYS: list[tuple[dict[str, Any], str]] = [
    ({}, "'name' is required"),
    ({"name": ""}, "'name' must not be empty"),
    ({"name": "k", "enabled": 1}, "'enabled' must be true or false"),
    ({"name": "k", "expire_at": -1}, "'expire_at' must be at least 0"),
    ({"name": "k", "max_cost": -0.5}, "'max_cost' must be at least 0"),
    ({"name": "k", "max_cost": "10"}, "'max_cost' must be a number"),
    ({"name": "k", "max_rpm": 1.5}, "'max_rpm' must be an integer"),
    ({"name": "k", "max_concurrency": -2}, "'max_concurrency' must be at least 0"),
    ({"name": "k", "supported_models": 3}, "'supported_models' must be a comma-separated string"),
]


@pytest.mark.parametrize(("body", "message"), BAD_KEYS)
async def test_validation(admin: httpx.AsyncClient, body: dict[str, Any], message: str) -> None:
    assert message in error(await admin.post("/api/v1/apikey/create", json=body), 400)
    assert data(await admin.get("/api/v1/apikey/list")) == []


async def test_missing_key_refusals(admin: httpx.AsyncClient) -> None:
    missing = await admin.post("/api/v1/apikey/update", json={"id": 99, "name": "x"})
    assert error(missing, 404) == "API key 99 not found"
    assert error(await admin.delete("/api/v1/apikey/delete/99"), 404) == "API key 99 not found"
