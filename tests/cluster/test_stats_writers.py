"""Three instances' log writers upserting the same hourly stats rows at once lose no update."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from octopus.store.engine import make_engine, session_factory
from octopus.store.migrate import upgrade
from octopus.store.tables import RequestLog, StatsHourly
from octopus.store.writer import BatchWriter, WriterConfig
from tests.conftest import MYSQL_ADMIN, PG_ADMIN, server_database
from tests.logs.factory import record

pytestmark = pytest.mark.integration
WRITERS, PER_WRITER = 3, 400


@pytest.fixture(params=["postgres", "mariadb"])
async def server_url(request: pytest.FixtureRequest) -> AsyncIterator[URL]:
    async with server_database(PG_ADMIN if request.param == "postgres" else MYSQL_ADMIN) as url:
        yield url


async def _writer_feeds(url: URL, writer_no: int) -> None:
    """One instance: its own engine and writer, small batches, the same few stats rows."""
    engine = make_engine(url)
    writer = BatchWriter(
        session_factory(engine), WriterConfig(interval=0.01, batch_size=20, max_batch=20)
    )
    writer.start()
    for n in range(PER_WRITER):
        writer.finished(
            record(
                request_id=f"w{writer_no}-{n}",
                started_at=1_800_000_000.0 + (n % 3) * 3600,  # three hours
                api_key_id=1 + n % 2,  # two keys: six rows shared by every writer
            )
        )
        if n % 20 == 0:
            await asyncio.sleep(0)
    await writer.flush()
    assert writer.dropped == 0
    await engine.dispose()


async def test_three_writers_upsert_the_same_rows_without_lost_updates(server_url: URL) -> None:
    engine = make_engine(server_url)
    await upgrade(engine)
    await asyncio.gather(*(_writer_feeds(server_url, w) for w in range(WRITERS)))
    async with session_factory(engine)() as session:
        logged = await session.scalar(select(func.count()).select_from(RequestLog))
        requests = await session.scalar(select(func.sum(StatsHourly.request_success)))
        rows = await session.scalar(select(func.count()).select_from(StatsHourly))
        tokens = await session.scalar(select(func.sum(StatsHourly.input_token)))
    await engine.dispose()
    assert logged == WRITERS * PER_WRITER, "every request logged exactly once"
    assert requests == WRITERS * PER_WRITER, "no lost update"
    assert tokens == WRITERS * PER_WRITER * 100
    assert rows == 6
