"""The configuration version: one counter row, bumped by every admin write, read everywhere."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from octopus.store.tables import ConfigVersion

_ROW = 1


async def read_version(session: AsyncSession) -> int:
    version = await session.scalar(select(ConfigVersion.version).where(ConfigVersion.id == _ROW))
    return int(version or 0)


async def bump_version(session: AsyncSession) -> int:
    """Add one atomically (the row lock orders concurrent writers); the new version."""
    result = await session.execute(
        update(ConfigVersion)
        .where(ConfigVersion.id == _ROW)
        .values(version=ConfigVersion.version + 1)
    )
    if getattr(result, "rowcount", 0) == 0:
        await _create_row(session)
        return await bump_version(session)
    version = await read_version(session)
    await session.commit()
    return version


async def _create_row(session: AsyncSession) -> None:
    session.add(ConfigVersion(id=_ROW, version=0))
    try:
        await session.commit()
    except IntegrityError:  # another instance created it first
        await session.rollback()
