"""Admin API fixtures: the real gateway on a free port, a logged-in client, a fake upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import URL

from octopus.settings import Settings
from tests.harness import TEST_ADMIN_PASSWORD, Gateway, admin_client, serve, sqlite_settings


def url_settings(url: URL, tmp: Path) -> Settings:
    kind = {"postgresql": "postgres"}.get(url.get_backend_name(), url.get_backend_name())
    return Settings(
        database_type=kind,
        database_path=url.render_as_string(hide_password=False),
        config_path=tmp / "data" / "config.json",
        models_dev_url="",  # tests never reach beyond loopback
        admin_password=TEST_ADMIN_PASSWORD,
    )


@pytest.fixture
async def gateway_db(db_url: URL, tmp_path: Path) -> AsyncIterator[Gateway]:
    """The gateway on each of the three databases."""
    async with serve(url_settings(db_url, tmp_path)) as gateway:
        yield gateway


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    """The gateway on SQLite, for behaviour that does not depend on the database."""
    async with serve(sqlite_settings(tmp_path)) as gw:
        yield gw


@pytest.fixture
async def admin_db(gateway_db: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    client = await admin_client(gateway_db)
    yield client
    await client.aclose()


@pytest.fixture
async def admin(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    client = await admin_client(gateway)
    yield client
    await client.aclose()


def data(response: httpx.Response, status: int = 200) -> Any:
    """The envelope's data after checking the HTTP status and the envelope code agree."""
    body = response.json()
    assert response.status_code == status, body
    assert body["code"] == status, body
    return body.get("data")


def error(response: httpx.Response, status: int) -> str:
    body = response.json()
    assert response.status_code == status, body
    assert body["code"] == status
    assert "data" not in body
    message: str = body["message"]
    return message


CHANNEL: dict[str, Any] = {
    "name": "primary",
    "type": "openai",
    "base_url": "https://api.example.com/v1",
    "key": "sk-first-0123456789abcd\nsk-second-0123456789wxyz",
    "model": "gpt-a, gpt-b",
}


async def create_channel(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    result: dict[str, Any] = data(
        await client.post("/api/v1/channel/create", json={**CHANNEL, **overrides})
    )
    return result
