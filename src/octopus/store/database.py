"""Open the configured database: connect, migrate, and hand out sessions."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from octopus.settings import Settings
from octopus.store.dsn import DsnError, database_url, masked
from octopus.store.engine import check_connection, make_engine, session_factory
from octopus.store.migrate import upgrade
from octopus.store.revisions import at_newest

log = logging.getLogger("octopus.store")
# the session factory type the web layer passes around without importing SQLAlchemy
Sessions = async_sessionmaker[AsyncSession]


@dataclass
class Database:
    engine: AsyncEngine
    sessions: Sessions

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def close(self) -> None:
        await self.engine.dispose()


async def open_database(settings: Settings, *, migrate: bool = True) -> Database:
    """Connect (failing clearly, password masked) and bring the schema up to date."""
    url = database_url(settings.database_type, settings.database_path)
    engine = make_engine(url)
    try:
        await check_connection(engine)
        if migrate:
            applied = await upgrade(engine)
            if applied:
                log.info("database migrated", extra={"fields": {"revisions": ",".join(applied)}})
    except BaseException:
        await engine.dispose()
        raise
    log.info("database ready", extra={"fields": {"url": masked(url)}})
    return Database(engine, session_factory(engine))


async def schema_is_current(settings: Settings) -> bool:
    """True when the database answers at the newest revision; False when behind, or unsure."""
    try:
        engine = make_engine(database_url(settings.database_type, settings.database_path))
    except DsnError:  # the migration reports it, in its own words
        return False
    try:
        return await at_newest(engine)
    except Exception:  # unreachable, refused...: the migration reports why, password masked
        return False
    finally:
        await engine.dispose()


async def ping(db: Database, limit: float = 2.0) -> bool:
    """True when the database answers a trivial query within `limit` seconds."""
    try:
        async with asyncio.timeout(limit), db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # any failure means "not ready"; the reason is logged elsewhere
        return False
    return True
