"""Write a new Alembic revision from the difference between tables.py and the migrated schema.

Usage: .venv/bin/python scripts/new_migration.py "short message"
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import Connection

from octopus.store.alembic_steps import alembic_config
from octopus.store.dsn import database_url
from octopus.store.engine import make_engine
from octopus.store.migrate import upgrade


async def main(message: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(database_url("sqlite", str(Path(tmp) / "gen.db")))
        await upgrade(engine)

        def revise(connection: Connection) -> None:
            command.revision(alembic_config(connection), message=message, autogenerate=True)

        async with engine.connect() as connection:
            await connection.run_sync(revise)
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "schema change"))
