"""Shared fixtures: real databases (a fresh one per test session and engine), settings, ports."""

from __future__ import annotations

import contextlib
import inspect
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from octopus.store.database import Database
from octopus.store.engine import make_engine, session_factory
from octopus.store.migrate import upgrade
from tests.fakes.upstream import FakeUpstream

PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
MYSQL_ADMIN = "mysql+asyncmy://root@127.0.0.1:3306/test?charset=utf8mb4"
ENGINES = ("sqlite", "mysql", "postgres")
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def bound_port(server: uvicorn.Server) -> int:
    """The port a started uvicorn server listens on: servers bind port 0, so no two tests can
    race for a port picked in advance."""
    return int(server.servers[0].sockets[0].getsockname()[1])


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections for the whole test (bound, never listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A loopback port whose connects hang until they time out: its accept queue is full, so
    the kernel drops new handshakes."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = int(server.getsockname()[1])
        queued = [socket.socket() for _ in range(3)]
        for sock in queued:
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
        try:
            yield port
        finally:
            for sock in queued:
                sock.close()


@contextlib.asynccontextmanager
async def server_database(admin_url: str) -> AsyncIterator[URL]:
    """A fresh database (random name) on the PostgreSQL or MariaDB server of `admin_url`, dropped
    on exit."""
    name = f"octo_{secrets.token_hex(6)}"
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f"CREATE DATABASE {name}"))
        yield make_url(admin_url).set(database=name)
    finally:
        force = " WITH (FORCE)" if engine.dialect.name == "postgresql" else ""
        async with engine.connect() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        await engine.dispose()


@pytest.fixture(params=ENGINES)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[URL]:
    """The URL of a fresh, empty database on each engine (dropped afterwards)."""
    kind: str = request.param
    if kind == "sqlite":
        yield URL.create("sqlite+aiosqlite", database=str(tmp_path / "test.db"))
        return
    async with server_database(PG_ADMIN if kind == "postgres" else MYSQL_ADMIN) as url:
        yield url


@pytest.fixture
async def database(db_url: URL) -> AsyncIterator[Database]:
    """A migrated database on each engine."""
    engine = make_engine(db_url)
    await upgrade(engine)
    db = Database(engine, session_factory(engine))
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
async def upstream() -> AsyncIterator[FakeUpstream]:
    """The fake provider on a loopback port."""
    fake = await FakeUpstream().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """A client of the real Redis on 127.0.0.1:6379."""
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """Every `async def` test runs on anyio's asyncio backend without a marker on each."""
    if name.startswith("test") and inspect.iscoroutinefunction(obj):
        pytest.mark.anyio(obj)
