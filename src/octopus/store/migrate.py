"""Migrations under a lock between instances: each revision in its own transaction, recorded only
on success; a database already at the newest revision is left alone without loading alembic."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from octopus.store.engine import DatabaseUnavailable
from octopus.store.revisions import at_newest

_LOCK_ID = 0x6F63746F  # "octo": the advisory lock every instance takes around migrations
LOCK_WAIT = 600.0  # seconds an instance waits for another one's migrations before giving up
_LOCK_POLL = 0.5
# each "take" answers at once: 1 = taken, 0 = held elsewhere, NULL = error (MySQL)
_LOCKS = {
    "postgresql": (
        f"SELECT pg_try_advisory_lock({_LOCK_ID})",
        f"SELECT pg_advisory_unlock({_LOCK_ID})",
    ),
    "mysql": ("SELECT GET_LOCK('octopus_migrate', 0)", "SELECT RELEASE_LOCK('octopus_migrate')"),
    "mariadb": ("SELECT GET_LOCK('octopus_migrate', 0)", "SELECT RELEASE_LOCK('octopus_migrate')"),
}


class MigrationLockTimeout(DatabaseUnavailable):
    """Another instance held the migration lock for longer than we wait; nothing was migrated."""


async def upgrade(engine: AsyncEngine, lock_wait: float = LOCK_WAIT) -> list[str]:
    """Bring the schema to the newest revision; returns the revisions applied (empty = no-op)."""
    if await at_newest(engine):
        return []
    from octopus.store import alembic_steps as steps  # ~10 MB, rarely needed

    async with _migration_lock(engine, lock_wait):
        async with engine.connect() as connection:
            before = await connection.run_sync(steps.current)
        async with engine.connect() as connection:
            await connection.run_sync(steps.upgrade_to_head)
        async with engine.connect() as connection:
            after = await connection.run_sync(steps.current)
    return steps.applied(before, after)


@asynccontextmanager
async def _migration_lock(engine: AsyncEngine, wait: float) -> AsyncIterator[None]:
    """Instances starting together on one server database migrate one after the other."""
    statements = _LOCKS.get(engine.dialect.name)
    if statements is None:  # SQLite: one file, its own locking; workers migrate in the supervisor
        yield
        return
    take, release = statements
    async with engine.connect() as holder:
        await _take_lock(holder, take, wait)
        try:
            yield
        finally:
            await holder.execute(text(release))


async def _take_lock(holder: AsyncConnection, take: str, wait: float) -> None:
    """Poll for the lock until `wait` runs out; never migrate without it."""
    deadline = time.monotonic() + wait
    while True:
        got = (await holder.execute(text(take))).scalar()
        if got is None:
            raise MigrationLockTimeout("the database refused the migration lock (NULL)")
        if int(got) == 1:
            return
        if time.monotonic() >= deadline:
            raise MigrationLockTimeout(
                f"another instance has held the migration lock for over {wait:g}s; "
                "nothing was migrated (is a migration stuck?)"
            )
        await asyncio.sleep(_LOCK_POLL)
