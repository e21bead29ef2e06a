"""Alembic itself: the configuration, the upgrade, and the revisions it knows (imported only when
the schema is not at the newest revision, or by tools: alembic holds ~10 MB of every process)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from octopus.store.revisions import MIGRATIONS


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s_%%(rev)s")
    config.attributes["connection"] = connection
    return config


def upgrade_to_head(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


def current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def applied(before: str | None, after: str | None) -> list[str]:
    """The revisions between `before` and `after`, oldest first."""
    if before == after or after is None:
        return []
    script = ScriptDirectory.from_config(alembic_config())
    revisions = [rev.revision for rev in script.iterate_revisions(after, before or "base")]
    return list(reversed(revisions))


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(current)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
