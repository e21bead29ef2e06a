"""The admin account and install-level secrets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from octopus.store.tables import Meta, RevokedToken, User

DEFAULT_USERNAME = "admin"


async def first_user(session: AsyncSession) -> User | None:
    return (await session.execute(select(User).order_by(User.id).limit(1))).scalar_one_or_none()


async def ensure_admin(
    session: AsyncSession,
    password_hash: Callable[[], Awaitable[str]],
    *,
    must_change_password: bool = False,
) -> bool:
    """Create admin when no user exists (hashing only then: it is slow); True when created."""
    if await first_user(session) is not None:
        return False
    session.add(
        User(
            username=DEFAULT_USERNAME,
            password_hash=await password_hash(),
            token_version=1,
            must_change_password=must_change_password,
        )
    )
    try:
        await session.commit()
    except IntegrityError:  # another instance starting at the same moment created it
        await session.rollback()
        return False
    return True


async def require_password_change(session: AsyncSession, user_id: int) -> None:
    user = await session.get(User, user_id)
    if user is not None and not user.must_change_password:
        user.must_change_password = True
        await session.commit()


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
        user.must_change_password = False
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


async def revoke_token(session: AsyncSession, token_id: str, expires_at: int) -> None:
    """Record a logged-out session; a second logout of the same token is a no-op."""
    session.add(RevokedToken(token_id=token_id, expires_at=expires_at))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()


async def revoked_tokens(session: AsyncSession, now: int) -> frozenset[str]:
    """Ids of revoked sessions that have not expired yet (expired ones verify false anyway)."""
    rows = await session.execute(select(RevokedToken.token_id).where(RevokedToken.expires_at > now))
    return frozenset(rows.scalars())


async def prune_revoked(session: AsyncSession, now: int) -> None:
    await session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
    await session.commit()
