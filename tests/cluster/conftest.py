"""Cluster fixtures: a fresh PostgreSQL (or MariaDB) database, a Redis prefix, the fake upstream."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.cluster.harness import Cluster
from tests.conftest import MYSQL_ADMIN, PG_ADMIN, REDIS_URL, _create_server_db, _drop_server_db

pytestmark = pytest.mark.integration


async def _database(admin: str) -> AsyncIterator[str]:
    name = f"octo_{secrets.token_hex(6)}"
    url = await _create_server_db(admin, name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        await _drop_server_db(admin, name)


@pytest.fixture
async def pg_dsn() -> AsyncIterator[str]:
    async for url in _database(PG_ADMIN):
        yield url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture
async def maria_dsn() -> AsyncIterator[str]:
    async for url in _database(MYSQL_ADMIN):
        yield url.replace("mysql+asyncmy://", "mysql://")


@pytest.fixture
def prefix() -> str:
    return f"octocl{secrets.token_hex(3)}:"


def cluster_env(dsn: str, prefix: str, database_type: str = "postgres") -> dict[str, str]:
    return {
        "OCTOPUS_DATABASE_TYPE": database_type,
        "OCTOPUS_DATABASE_PATH": dsn,
        "OCTOPUS_REDIS_URL": REDIS_URL,
        "OCTOPUS_REDIS_PREFIX": prefix,
        "OCTOPUS_LOG_LEVEL": "info",
    }


@pytest.fixture
def pg_cluster(tmp_path: Path, pg_dsn: str, prefix: str) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path, cluster_env(pg_dsn, prefix))
    try:
        yield cluster
    finally:
        cluster.stop()
