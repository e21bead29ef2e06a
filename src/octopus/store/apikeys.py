"""Client API keys: only the sha256 of a key and a masked display form are stored."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from octopus.store.errors import Duplicate, NotFound
from octopus.store.tables import ApiKey

# what an admin write may change; the key itself (hash and prefix) is immutable
API_KEY_FIELDS = frozenset(
    {
        "name",
        "enabled",
        "expire_at",
        "max_cost",
        "supported_models",
        "max_rpm",
        "max_tpm",
        "max_concurrency",
    }
)


async def list_api_keys(session: AsyncSession) -> list[ApiKey]:
    return list((await session.execute(select(ApiKey).order_by(ApiKey.id))).scalars().all())


async def get_api_key(session: AsyncSession, key_id: int) -> ApiKey:
    row = await session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"API key {key_id} not found")
    return row


async def create_api_key(
    session: AsyncSession, values: dict[str, Any], key_hash: str, key_prefix: str
) -> ApiKey:
    row = ApiKey(
        **{k: v for k, v in values.items() if k in API_KEY_FIELDS},
        key_hash=key_hash,
        key_prefix=key_prefix,
        created_at=int(time.time()),
    )
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Duplicate("an API key with this value already exists") from None
    return row


async def update_api_key(session: AsyncSession, key_id: int, values: dict[str, Any]) -> ApiKey:
    row = await get_api_key(session, key_id)
    for name, value in values.items():
        if name in API_KEY_FIELDS:
            setattr(row, name, value)
    await session.commit()
    return row


async def delete_api_key(session: AsyncSession, key_id: int) -> None:
    await get_api_key(session, key_id)
    await session.execute(delete(ApiKey).where(ApiKey.id == key_id))
    await session.commit()
