"""The admin account at start-up: created on first start with OCTOPUS_ADMIN_PASSWORD, else as
admin/admin locked down until its password is changed (an older install still on admin/admin
is locked down as well)."""

from __future__ import annotations

import asyncio
import logging

from octopus.services.passwords import hash_password_async, password_problem, verify_password
from octopus.store import users
from octopus.store.database import Database

log = logging.getLogger("octopus.app")
INITIAL_PASSWORD = "admin"  # noqa: S105 - the documented first login, locked down until changed


class FirstPasswordRefused(Exception):
    """OCTOPUS_ADMIN_PASSWORD does not meet the password rules: the start stops."""


async def ensure_admin(db: Database, password: str) -> None:
    if password:
        problem = password_problem(users.DEFAULT_USERNAME, password)
        if problem is not None:
            raise FirstPasswordRefused(f"admin.password (OCTOPUS_ADMIN_PASSWORD): {problem}")
    async with db.sessions() as session:
        if await users.ensure_admin(
            session,
            lambda: hash_password_async(password or INITIAL_PASSWORD),
            must_change_password=not password,
        ):
            _created(password)
            return
        if password:
            log.info("admin.password applies on first start only: the account exists already")
        account = await users.first_user(session)
        if (
            account is not None
            and not account.must_change_password
            and await asyncio.to_thread(verify_password, account.password_hash, INITIAL_PASSWORD)
        ):
            await users.require_password_change(session, account.id)
            log.warning("the admin password is still 'admin': it must be changed at next login")


def _created(password: str) -> None:
    if password:
        log.info("created the account admin with the password from admin.password")
    else:
        log.warning(
            "created the initial account admin/admin: log in and change its password; "
            "nothing else is allowed until then"
        )
