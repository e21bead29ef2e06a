"""Price rows (`llm_infos`), the channel models they price, and the shipped models.dev snapshot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import orjson
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from octopus.pricing.model_match import Rates, parse_models_dev
from octopus.store.tables import Channel, LlmInfo

SNAPSHOT_FILE = "prices_snapshot.json"
NAME_MAX = 191


@dataclass(frozen=True, slots=True)
class PriceRow:
    name: str
    rates: Rates
    manual: bool
    updated_at: int


@dataclass(frozen=True, slots=True)
class ChannelModel:
    name: str
    enabled: bool
    channel_id: int
    channel_name: str


def snapshot_reference() -> dict[str, Rates]:
    """The models.dev prices shipped inside the package (used until the first refresh succeeds)."""
    raw = resources.files("octopus.store").joinpath(SNAPSHOT_FILE).read_bytes()
    return parse_models_dev(orjson.loads(raw))


def normalize_name(name: str) -> str:
    return name.strip().lower()


def split_models(text: str | None) -> list[str]:
    """A comma-separated model list: trimmed, empties dropped, first occurrence kept."""
    parts = (part.strip() for part in (text or "").split(","))
    return list(dict.fromkeys(part for part in parts if part))


def _row(info: LlmInfo) -> PriceRow:
    rates = Rates(info.input, info.output, info.cache_read, info.cache_write)
    return PriceRow(info.name, rates, info.manual, info.updated_at)


async def list_rows(session: AsyncSession) -> list[PriceRow]:
    result = await session.execute(select(LlmInfo).order_by(LlmInfo.name))
    return [_row(info) for info in result.scalars()]


async def get_row(session: AsyncSession, name: str) -> PriceRow | None:
    info = await session.get(LlmInfo, normalize_name(name))
    return None if info is None else _row(info)


async def create_row(session: AsyncSession, row: PriceRow) -> bool:
    """Insert a row; False (nothing written) when the name already has one."""
    if await session.get(LlmInfo, row.name) is not None:
        return False
    session.add(_info(row))
    await session.commit()
    return True


async def put_row(session: AsyncSession, row: PriceRow) -> bool:
    """Insert or replace a row; True when it already existed."""
    info = await session.get(LlmInfo, row.name)
    existed = info is not None
    if info is None:
        session.add(_info(row))
    else:
        _assign(info, row)
    await session.commit()
    return existed


async def delete_row(session: AsyncSession, name: str) -> bool:
    result = await session.execute(delete(LlmInfo).where(LlmInfo.name == normalize_name(name)))
    await session.commit()
    return bool(getattr(result, "rowcount", 0))


def _info(row: PriceRow) -> LlmInfo:
    info = LlmInfo(name=row.name)
    _assign(info, row)
    return info


def _assign(info: LlmInfo, row: PriceRow) -> None:
    info.input = row.rates.input
    info.output = row.rates.output
    info.cache_read = row.rates.cache_read
    info.cache_write = row.rates.cache_write
    info.manual = row.manual
    info.updated_at = row.updated_at


async def refresh_automatic(
    session: AsyncSession, resolve: Callable[[str], Rates | None], now: int
) -> int:
    """Re-price every non-manual row from `resolve`; manual rows are never touched.

    Returns how many rows changed. Rows `resolve` cannot price keep their value.
    """
    result = await session.execute(select(LlmInfo).where(LlmInfo.manual.is_(False)))
    changed = 0
    for info in result.scalars():
        rates = resolve(info.name)
        if rates is None or rates == _row(info).rates:
            continue
        _assign(info, PriceRow(info.name, rates, manual=False, updated_at=now))
        changed += 1
    await session.commit()
    return changed


async def rebuild_all(
    session: AsyncSession, resolve: Callable[[str], Rates | None], now: int
) -> int:
    """Go's rebuild-price: every row, hand-set ones too, takes its models.dev price or zeros."""
    result = await session.execute(select(LlmInfo))
    count = 0
    for info in result.scalars():
        rates = resolve(info.name) or Rates(0.0, 0.0, 0.0, 0.0)
        _assign(info, PriceRow(info.name, rates, manual=False, updated_at=now))
        count += 1
    await session.commit()
    return count


async def channel_models(session: AsyncSession) -> list[ChannelModel]:
    """One entry per model of every channel (`custom_model` first, then `model`)."""
    result = await session.execute(
        select(
            Channel.id, Channel.name, Channel.enabled, Channel.model, Channel.custom_model
        ).order_by(Channel.id)
    )
    entries: list[ChannelModel] = []
    for channel_id, name, enabled, model, custom in result.all():
        entries += [
            ChannelModel(model_name, bool(enabled), channel_id, name)
            for model_name in split_models(f"{custom},{model}")
        ]
    return entries
