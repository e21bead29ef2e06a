"""Build the async engine and session factory for SQLite (WAL), MySQL/MariaDB or PostgreSQL."""

from __future__ import annotations

import importlib
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from octopus.store.dsn import masked

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA cache_size=-4000",  # 4 MiB per connection: the relay never reads SQL, logs only append
)


class DatabaseUnavailable(Exception):
    """The database cannot be reached or opened; the message has the password masked."""


def make_engine(url: URL) -> AsyncEngine:
    # hide_parameters: bound values (keys, hashes) never reach a log line or an error message,
    # not even with OCTOPUS_DEBUG's SQL logging on
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        "json_serializer": _dumps,
        "hide_parameters": True,
    }
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            from pathlib import Path

            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    else:
        options.update(pool_size=10, max_overflow=40, pool_recycle=3600)
    engine = create_async_engine(url, **options)
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def upsert_insert(dialect: str, table: Any) -> Any:
    """`insert(table)` from the session's own dialect (MySQL's or the on-conflict one): imported by
    name, so a SQLite process never loads PostgreSQL's dialect (~2 MB) for it."""
    name = "mysql" if dialect in ("mysql", "mariadb") else dialect
    return importlib.import_module(f"sqlalchemy.dialects.{name}").insert(table)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def check_connection(engine: AsyncEngine) -> None:
    """Fail early and clearly when the database is unreachable."""
    try:
        async with engine.connect():
            pass
    except (OperationalError, DBAPIError, OSError) as exc:
        reason = _reason(exc)
        raise DatabaseUnavailable(f"cannot connect to {masked(engine.url)}: {reason}") from None


def _reason(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    text = str(original).splitlines()[0] if str(original) else type(original).__name__
    return text[:300]
