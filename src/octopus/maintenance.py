"""Offline commands: migrate the schema, reset the admin password."""

from __future__ import annotations

import logging
import sys

from octopus.services.passwords import hash_password, hash_password_async, password_problem
from octopus.settings import Settings
from octopus.store import users
from octopus.supervisor import open_or_report

log = logging.getLogger("octopus.maintenance")


async def migrate(settings: Settings) -> int:
    db = await open_or_report(settings)
    if db is None:
        return 1
    await db.close()
    print("database schema is up to date")  # noqa: T201
    return 0


async def reset_password(settings: Settings, password: str, username: str | None) -> int:
    problem = password_problem(username or users.DEFAULT_USERNAME, password)
    if problem is not None:
        print(f"octopus: {problem}", file=sys.stderr)  # noqa: T201
        return 2
    db = await open_or_report(settings)
    if db is None:
        return 1
    try:
        async with db.sessions() as session:
            await users.ensure_admin(session, lambda: hash_password_async(password))
            user = await users.first_user(session)
            if user is None:  # pragma: no cover - ensure_admin just made one
                raise RuntimeError("no admin account")
            await users.update_credentials(
                session, user.id, username=username, password_hash=hash_password(password)
            )
            name = username or user.username
    finally:
        await db.close()
    # a running gateway reads the account again within 2 s: its sessions end then
    print(f"password reset for {name}; every earlier session is signed out")  # noqa: T201
    return 0
