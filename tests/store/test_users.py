"""The admin account on every engine: created once, credential changes bump the token version."""

from __future__ import annotations

from octopus.services.passwords import hash_password, hash_password_async, verify_password
from octopus.store import users
from octopus.store.database import Database


async def test_admin_created_once_and_credentials_change(database: Database) -> None:
    async with database.sessions() as session:
        assert await users.ensure_admin(session, lambda: hash_password_async("admin")) is True
        assert await users.ensure_admin(session, lambda: hash_password_async("other")) is False
        admin = await users.first_user(session)
        assert admin is not None
        assert admin.username == "admin"
        assert verify_password(admin.password_hash, "admin")
        version = admin.token_version
        updated = await users.update_credentials(
            session, admin.id, username="root", password_hash=hash_password("n3w-pass")
        )
    assert updated.token_version == version + 1
    async with database.sessions() as session:
        again = await users.first_user(session)
        assert again is not None
        assert again.username == "root"
        assert verify_password(again.password_hash, "n3w-pass")
        assert not verify_password(again.password_hash, "admin")


async def test_meta_secret_is_stable(database: Database) -> None:
    async with database.sessions() as session:
        first = await users.get_or_create_meta(session, "token_secret", "a")
        second = await users.get_or_create_meta(session, "token_secret", "b")
    assert first == second == "a"
