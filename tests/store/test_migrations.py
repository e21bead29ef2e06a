"""Migrations from an empty database on every engine, re-run as a no-op, schema equal to tables.py."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import URL

from octopus.store.alembic_steps import current_revision, head_revision
from octopus.store.engine import make_engine
from octopus.store.migrate import _LOCKS, MigrationLockTimeout, upgrade
from octopus.store.revisions import newest_revision
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


def test_the_newest_revision_read_off_the_files_is_alembics_head() -> None:
    assert newest_revision() == head_revision()


def test_a_merge_or_an_odd_file_makes_the_newest_revision_unsure(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('revision = "aaa"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text('revision = "bbb"\ndown_revision = "aaa"\n')
    assert newest_revision(tmp_path) == "bbb"
    (tmp_path / "c.py").write_text('revision = "ccc"\ndown_revision = ("aaa", "bbb")\n')
    assert newest_revision(tmp_path) is None


_SECOND_START = """
import asyncio, sys
from octopus.store.dsn import database_url
from octopus.store.engine import make_engine
from octopus.store.migrate import upgrade

async def main():
    engine = make_engine(database_url("sqlite", sys.argv[1]))
    print(await upgrade(engine), "alembic" in sys.modules)
    await engine.dispose()

asyncio.run(main())
"""


async def test_a_start_at_the_newest_revision_never_loads_alembic(tmp_path: Path) -> None:
    """Alembic and what it loads hold ~10 MB of every process: only a migration pays that."""
    path = str(tmp_path / "db.sqlite")
    first = subprocess.run(
        [sys.executable, "-c", _SECOND_START, path], capture_output=True, text=True, check=True
    )
    assert first.stdout.startswith("['c2b9b5afed57'"), first.stderr  # migrated: alembic ran
    assert first.stdout.endswith(" True\n")
    second = subprocess.run(
        [sys.executable, "-c", _SECOND_START, path], capture_output=True, text=True, check=True
    )
    assert second.stdout == "[] False\n", second.stderr
