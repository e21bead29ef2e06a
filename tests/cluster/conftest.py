"""Cluster fixtures: a fresh PostgreSQL (or MariaDB) database, a Redis prefix, the fake upstream."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from tests.cluster.harness import Cluster
from tests.conftest import MYSQL_ADMIN, PG_ADMIN, REDIS_URL, server_database

pytestmark = pytest.mark.integration
LONG_POLL = 600


@pytest.fixture
async def pg_dsn() -> AsyncIterator[str]:
    async with server_database(PG_ADMIN) as url:
        yield _dsn(url).replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture
async def maria_dsn() -> AsyncIterator[str]:
    async with server_database(MYSQL_ADMIN) as url:
        yield _dsn(url).replace("mysql+asyncmy://", "mysql://")


def _dsn(url: URL) -> str:
    return url.render_as_string(hide_password=False)


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
        # a change seen within seconds came by pub/sub, not by the 2 s poll (test_config sets it back)
        "OCTOPUS_CONFIG_POLL_SECONDS": str(LONG_POLL),
    }


@pytest.fixture
def pg_cluster(tmp_path: Path, pg_dsn: str, prefix: str) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path, cluster_env(pg_dsn, prefix))
    try:
        yield cluster
    finally:
        cluster.stop()
