"""Migrations from an empty database on every engine, re-run as a no-op, schema equal to tables.py."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.engine import URL

from octopus.store.engine import make_engine
from octopus.store.migrate import current_revision, head_revision, upgrade
from octopus.store.tables import Base


async def test_upgrade_from_empty_then_noop(db_url: URL) -> None:
    engine = make_engine(db_url)
    try:
        applied = await upgrade(engine)
        assert applied, "the first upgrade applies the initial revision"
        assert await current_revision(engine) == head_revision()
        assert await upgrade(engine) == []
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert set(Base.metadata.tables) <= names
    finally:
        await engine.dispose()


async def test_migrated_schema_matches_tables(db_url: URL) -> None:
    engine = make_engine(db_url)
    try:
        await upgrade(engine)

        def diff(conn: Connection) -> list[object]:
            context = MigrationContext.configure(conn, opts={"compare_type": False})
            return list(compare_metadata(context, Base.metadata))

        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()
