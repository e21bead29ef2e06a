"""Price and update fixtures: a fake models.dev / GitHub server and the gateway pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import URL

from octopus.settings import Settings
from octopus.store.database import Database
from octopus.store.engine import make_engine, session_factory
from octopus.store.migrate import upgrade
from tests.harness import TEST_ADMIN_PASSWORD, Gateway, admin_client, serve
from tests.prices.fake_http import FakeHttp

MODELS_DEV: dict[str, Any] = {
    "openai": {
        "models": {
            "gpt-4o": {
                "id": "gpt-4o",
                "family": "gpt-4o",
                "modalities": {"input": ["text"], "output": ["text"]},
                "cost": {"input": 2.5, "output": 10, "cache_read": 1.25},
            },
            "text-embedding-3-large": {
                "id": "text-embedding-3-large",
                "family": "text-embedding",
                "modalities": {"input": ["text"], "output": ["text"]},
                "cost": {"input": 0.13, "output": 0},
            },
        }
    },
    "anthropic": {
        "models": {
            "claude-sonnet-4-5": {
                "id": "claude-sonnet-4-5",
                "family": "claude-sonnet",
                "modalities": {"input": ["text", "image"], "output": ["text"]},
                "cost": {"input": 4, "output": 20, "cache_read": 0.4, "cache_write": 5},
            }
        }
    },
}


def gateway_settings(url: URL | None, tmp: Path, **overrides: Any) -> Settings:
    if url is None:
        values: dict[str, Any] = {
            "database_type": "sqlite",
            "database_path": str(tmp / "data" / "data.db"),
        }
    else:
        kind = {"postgresql": "postgres"}.get(url.get_backend_name(), url.get_backend_name())
        values = {"database_type": kind, "database_path": url.render_as_string(hide_password=False)}
    values.setdefault("config_path", tmp / "data" / "config.json")
    values.setdefault("admin_password", TEST_ADMIN_PASSWORD)
    return Settings(**{"models_dev_url": "", **values, **overrides})


@pytest.fixture
async def fake() -> AsyncIterator[FakeHttp]:
    server = await FakeHttp().start()
    server.answer(MODELS_DEV)
    yield server
    await server.stop()


@pytest.fixture
async def gateway(fake: FakeHttp, tmp_path: Path) -> AsyncIterator[Gateway]:
    """The gateway on SQLite, refreshing prices from the fake models.dev."""
    settings = gateway_settings(
        None,
        tmp_path,
        models_dev_url=f"{fake.base}/api.json",
        update_repository=f"{fake.base}/repos/acme/octopus/releases/latest",
    )
    async with serve(settings) as gw:
        yield gw


@pytest.fixture
async def admin(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    client = await admin_client(gateway)
    yield client
    await client.aclose()


def data(response: httpx.Response, status: int = 200) -> Any:
    body = response.json()
    assert response.status_code == status, body
    assert body["code"] == status, body
    return body.get("data")


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[Database]:
    """One migrated SQLite database, for behaviour that does not depend on the engine."""
    engine = make_engine(URL.create("sqlite+aiosqlite", database=str(tmp_path / "one.db")))
    await upgrade(engine)
    db = Database(engine, session_factory(engine))
    yield db
    await db.close()
