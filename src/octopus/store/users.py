"""The admin account and install-level secrets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from octopus.store.tables import Meta, User

DEFAULT_USERNAME = "admin"


async def first_user(session: AsyncSession) -> User | None:
    return (await session.execute(select(User).order_by(User.id).limit(1))).scalar_one_or_none()


async def ensure_admin(session: AsyncSession, password_hash: Callable[[], Awaitable[str]]) -> bool:
    """Create admin when no user exists (hashing only then: it is slow); True when created."""
    if await first_user(session) is not None:
        return False
    session.add(
        User(username=DEFAULT_USERNAME, password_hash=await password_hash(), token_version=1)
    )
    try:
        await session.commit()
    except IntegrityError:  # another instance starting at the same moment created it
        await session.rollback()
        return False
    return True


async def update_credentials(
    session: AsyncSession,
    user_id: int,
    *,
    username: str | None = None,
    password_hash: str | None = None,
) -> User:
    """Change username and/or password and invalidate every earlier token."""
    user = await session.get(User, user_id)
    if user is None:
        raise LookupError("user not found")
    if username is not None:
        user.username = username
    if password_hash is not None:
        user.password_hash = password_hash
    user.token_version += 1
    await session.commit()
    return user


async def get_or_create_meta(session: AsyncSession, key: str, make: str) -> str:
    row = await session.get(Meta, key)
    if row is not None:
        return row.value
    session.add(Meta(key=key, value=make))
    try:
        await session.commit()
    except IntegrityError:  # another instance starting at the same moment wrote it first
        await session.rollback()
        return (await session.get(Meta, key, populate_existing=True)).value  # type: ignore[union-attr]
    return make
