"""Migrations from an empty database on every engine, re-run as a no-op, schema equal to tables.py."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import URL

from octopus.store.engine import make_engine
from octopus.store.migrate import (
    _LOCKS,
    MigrationLockTimeout,
    current_revision,
    head_revision,
    upgrade,
)
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


@pytest.mark.parametrize("db_url", ["mysql", "postgres"], indirect=True)
async def test_a_held_migration_lock_stops_startup_clearly(db_url: URL) -> None:
    """Another instance migrating for too long: a clear error, never an unlocked migration."""
    engine = make_engine(db_url)
    holder = make_engine(db_url)
    take, release = _LOCKS[engine.dialect.name]
    try:
        async with holder.connect() as other:
            assert (await other.execute(text(take))).scalar() == 1
            async with asyncio.timeout(60):  # before the fix PostgreSQL waited forever
                with pytest.raises(MigrationLockTimeout, match="held the migration lock"):
                    await upgrade(engine, lock_wait=1.0)
            assert await current_revision(engine) is None, "nothing migrated without the lock"
            await other.execute(text(release))
        assert await upgrade(engine, lock_wait=30.0)
    finally:
        await engine.dispose()
        await holder.dispose()
