"""Alembic environment: runs on the connection the application hands in, one transaction per revision."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from octopus.store.tables import Base

target_metadata = Base.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        transaction_per_migration=True,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("octopus migrations run through `octopus migrate`, not bare alembic")
    run(connection)
    connection.commit()


main()
