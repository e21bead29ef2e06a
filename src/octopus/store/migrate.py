"""Alembic migrations: each revision in its own transaction, recorded only on success."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_ID = 0x6F63746F  # "octo": the advisory lock every instance takes around migrations
_LOCKS = {
    "postgresql": (
        f"SELECT pg_advisory_lock({_LOCK_ID})",
        f"SELECT pg_advisory_unlock({_LOCK_ID})",
    ),
    "mysql": ("SELECT GET_LOCK('octopus_migrate', 600)", "SELECT RELEASE_LOCK('octopus_migrate')"),
    "mariadb": (
        "SELECT GET_LOCK('octopus_migrate', 600)",
        "SELECT RELEASE_LOCK('octopus_migrate')",
    ),
}


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s_%%(rev)s")
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine) -> list[str]:
    """Bring the schema to the newest revision; returns the revisions applied (empty = no-op)."""
    async with _migration_lock(engine):
        async with engine.connect() as connection:
            before = await connection.run_sync(_current)
        async with engine.connect() as connection:
            await connection.run_sync(_upgrade)
        async with engine.connect() as connection:
            after = await connection.run_sync(_current)
    return _applied(before, after)


@asynccontextmanager
async def _migration_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """Instances starting together on one server database migrate one after the other."""
    statements = _LOCKS.get(engine.dialect.name)
    if statements is None:  # SQLite: one file, its own locking; workers migrate in the supervisor
        yield
        return
    take, release = statements
    async with engine.connect() as holder:
        await holder.execute(text(take))
        try:
            yield
        finally:
            await holder.execute(text(release))


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _applied(before: str | None, after: str | None) -> list[str]:
    if before == after or after is None:
        return []
    script = ScriptDirectory.from_config(alembic_config())
    revisions = [rev.revision for rev in script.iterate_revisions(after, before or "base")]
    return list(reversed(revisions))


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
