"""/api/v1/setting/export and /import through the real server: download, upload (multipart,
raw JSON, envelope), refusal, and the running gateway using what was imported."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from octopus.pricing.cost import Price
from tests.backup.conftest import GO_DUMP, go_dump
from tests.harness import Gateway, admin_client, serve
from tests.prices.conftest import data, gateway_settings


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    async with serve(gateway_settings(None, tmp_path)) as gw:
        yield gw


@pytest.fixture
async def admin(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    client = await admin_client(gateway)
    yield client
    await client.aclose()


async def test_go_dump_upload_on_every_database(db_url: URL, tmp_path: Path) -> None:
    async with serve(gateway_settings(db_url, tmp_path)) as gateway:
        admin = await admin_client(gateway)
        files = {
            "file": ("octopus-export-20251120081530.json", GO_DUMP.read_bytes(), "application/json")
        }
        result = data(await admin.post("/api/v1/setting/import", files=files))
        assert result["rows_affected"]["channels"] == 4
        assert result["rows_affected"]["api_keys"] == 3
        assert result["skipped"]["settings"] == 1

        state = gateway.app.services
        # the running gateway uses it at once: routing catalog, live settings, prices
        assert set(state.catalog.current.groups) == {"gpt-4o", "claude-sonnet", "fast"}
        plain = go_dump()["api_keys"][0]["api_key"]
        assert hashlib.sha256(plain.encode()).hexdigest() in state.catalog.current.keys
        assert state.live_settings.proxy_url == "http://127.0.0.1:7890"
        assert state.live_settings.sync_llm_interval == 12
        assert state.prices.price_for("doubao-seed-1-6-250615") == Price(0.11, 1.1, 0.022)
        listed = data(await admin.get("/api/v1/channel/list"))
        assert sorted(c["name"] for c in listed) == ["ark", "claude", "gemini", "openai-main"]
        total = data(await admin.get("/api/v1/stats/total"))
        assert total["request_success"] == 360
        await admin.aclose()


async def test_export_download(gateway: Gateway, admin: httpx.AsyncClient) -> None:
    response = await admin.get("/api/v1/setting/export")
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="octopus-export-\d{14}\.json"', disposition)
    doc = response.json()
    assert (doc["version"], doc["include_stats"], doc["octopus_format"]) == (2, False, 1)
    assert "stats_total" not in doc
    with_stats = (await admin.get("/api/v1/setting/export?include_stats=true")).json()
    assert with_stats["include_stats"] is True
    assert with_stats["stats_total"][0]["request_success"] == 0


async def test_raw_and_enveloped_uploads_and_round_trip(
    gateway: Gateway, admin: httpx.AsyncClient
) -> None:
    raw = await admin.post(
        "/api/v1/setting/import",
        content=GO_DUMP.read_bytes(),
        headers={"Content-Type": "application/json"},
    )
    assert data(raw)["rows_affected"]["groups"] == 3
    exported = (await admin.get("/api/v1/setting/export?include_stats=true")).json()
    wrapped = json.dumps({"code": 200, "message": "success", "data": exported})
    again = data(
        await admin.post(
            "/api/v1/setting/import",
            content=wrapped,
            headers={"Content-Type": "application/json"},
        )
    )
    assert again["rows_affected"]["channels"] == 0  # ids already present: kept, not replaced
    assert again["skipped"]["channels"] == 4
    after = (await admin.get("/api/v1/setting/export?include_stats=true")).json()
    exported.pop("exported_at")
    after.pop("exported_at")
    assert after == exported


async def test_bad_uploads_are_refused(gateway: Gateway, admin: httpx.AsyncClient) -> None:
    bad = {**go_dump(), "version": 7}
    files = {"file": ("dump.json", json.dumps(bad).encode(), "application/json")}
    response = await admin.post("/api/v1/setting/import", files=files)
    assert response.status_code == 400
    assert response.json() == {
        "code": 400,
        "message": "import refused, nothing was changed: "
        "unsupported dump version: 7 (expected 0 or 2)",
    }
    broken = await admin.post("/api/v1/setting/import", files={"file": ("d.json", b"{oops")})
    assert "the file is not valid JSON" in broken.json()["message"]
    no_file = await admin.post("/api/v1/setting/import", files={"other": ("d.json", b"{}")})
    assert no_file.json()["message"] == "import refused: the form has no 'file' field"
    empty = await admin.post(
        "/api/v1/setting/import", content=b"", headers={"Content-Type": "application/json"}
    )
    assert empty.status_code == 400
    assert data(await admin.get("/api/v1/channel/list")) == []
