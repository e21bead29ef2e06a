"""PriceService: effective prices (manual > stored > models.dev) and the models.dev refresh."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from octopus.coordination.config_sync import ConfigSync
from octopus.live_settings import LiveSettings
from octopus.pricing.cost import Price, PriceBook
from octopus.pricing.model_match import Rates
from octopus.services.prices import PriceService, RefreshFailed
from octopus.services.scheduler import Scheduler
from octopus.store import prices as store
from octopus.store.database import Database
from octopus.upstream.aiohttp_transport import AiohttpTransport
from tests.fakes.doubles import FakeClock
from tests.prices.fake_http import FakeHttp

REFERENCE = {"gpt-4o": Rates(2, 8, 1), "claude-sonnet-4-5": Rates(3, 15, 0.3, 3.75)}


@pytest.fixture
async def transport() -> AsyncIterator[AiohttpTransport]:
    client = AiohttpTransport()
    yield client
    await client.aclose()


def service(
    database: Database,
    transport: AiohttpTransport,
    url: str = "",
    live: LiveSettings | None = None,
    clock: FakeClock | None = None,
) -> PriceService:
    return PriceService(
        database.sessions,
        transport,
        clock or FakeClock(),
        live or LiveSettings(),
        url=url,
        reference=REFERENCE,
    )


async def put(database: Database, name: str, rates: Rates, *, manual: bool) -> None:
    async with database.sessions() as session:
        await store.put_row(session, store.PriceRow(name, rates, manual, 0))


async def test_effective_price_manual_then_stored_then_reference(
    database: Database, transport: AiohttpTransport
) -> None:
    prices = service(database, transport)
    book: PriceBook = prices  # the relay's Protocol
    assert book.price_for("openai/gpt-4o-2024-08-06") == Price(2, 8, 1)
    await put(database, "gpt-4o", Rates(1, 1), manual=True)
    await put(database, "my-model", Rates(5, 6), manual=False)
    await put(database, "claude-sonnet-4-5", Rates(), manual=False)  # zeros: "not set"
    await put(database, "free-model", Rates(), manual=True)  # a hand-set zero is a price
    assert book.price_for("gpt-4o") == Price(2, 8, 1)  # not rebuilt yet: the old snapshot
    await prices.rebuild()
    assert book.price_for("openai/gpt-4o-2024-08-06") == Price(1, 1)
    assert book.price_for("my-model-v2") == Price(5, 6)
    assert book.price_for("claude-sonnet-4-5-20250929") == Price(3, 15, 0.3, 3.75)
    assert book.price_for("free-model") == Price()
    assert book.price_for("unknown-model") is None
    resolved = prices.resolve("GPT-4o")
    assert resolved is not None
    assert (resolved.source, resolved.matched, resolved.exact) == ("manual", "gpt-4o", True)


async def test_price_for_never_touches_the_database(
    database: Database, transport: AiohttpTransport
) -> None:
    prices = service(database, transport)
    await put(database, "local-model", Rates(1, 2), manual=True)
    await prices.rebuild()
    await database.close()  # every later query would fail
    assert prices.price_for("local-model") == Price(1, 2)
    assert prices.price_for("gpt-4o") == Price(2, 8, 1)


async def test_refresh_replaces_the_reference_and_never_touches_manual_prices(
    database: Database, transport: AiohttpTransport, fake: FakeHttp
) -> None:
    clock = FakeClock(1_800_000_000)
    prices = service(database, transport, f"{fake.base}/api.json", clock=clock)
    await put(database, "claude-sonnet-4-5", Rates(1, 2, 3, 4), manual=True)
    await put(database, "gpt-4o-2024-05-13", Rates(5, 15), manual=False)
    await prices.rebuild()
    assert [prices.last_update] == [None]

    assert await prices.refresh() == 2  # gpt-4o and claude-sonnet-4-5; the embedding is dropped
    assert fake.seen[0].url.endswith("/api.json")
    assert "Chrome" in fake.seen[0].headers["User-Agent"]
    assert prices.last_update == clock.time()
    async with database.sessions() as session:
        manual = await store.get_row(session, "claude-sonnet-4-5")
        stored = await store.get_row(session, "gpt-4o-2024-05-13")
    assert manual == store.PriceRow("claude-sonnet-4-5", Rates(1, 2, 3, 4), True, 0)
    # a non-manual row follows models.dev (matched by segments), with the refresh time
    assert stored == store.PriceRow("gpt-4o-2024-05-13", Rates(2.5, 10, 1.25), False, 1_800_000_000)
    assert prices.price_for("anthropic/claude-sonnet-4-5") == Price(1, 2, 3, 4)
    assert prices.price_for("gpt-4o") == Price(2.5, 10, 1.25)
    assert prices.price_for("text-embedding-3-large") is None

    # a second refresh with other prices still leaves the manual row alone
    fake.answer({"anthropic": {"models": {"claude-sonnet-4-5": {
        "id": "claude-sonnet-4-5", "family": "claude", "modalities": {"output": ["text"]},
        "cost": {"input": 9, "output": 9},
    }}}})  # fmt: skip
    assert await prices.refresh() == 1
    assert prices.price_for("claude-sonnet-4-5") == Price(1, 2, 3, 4)
    assert prices.reference_rates("claude-sonnet-4-5") == Rates(9, 9)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (500, b'{"message": "down for maintenance"}', "HTTP 500: down for maintenance"),
        (200, b"<html>not json</html>", "did not answer JSON"),
        (200, b'{"openai": {"models": {}}}', "without any usable price"),
        (200, b"[1, 2]", "not a JSON object"),
    ],
)
async def test_a_bad_answer_keeps_the_last_table(
    transport: AiohttpTransport,
    fake: FakeHttp,
    sqlite_database: Database,
    status: int,
    body: bytes,
    message: str,
) -> None:
    prices = service(sqlite_database, transport, f"{fake.base}/api.json")
    await prices.rebuild()
    fake.status, fake.body = status, body
    with pytest.raises(RefreshFailed, match=message):
        await prices.refresh()
    assert prices.price_for("gpt-4o") == Price(2, 8, 1)
    assert prices.last_update is None


async def test_offline_refresh_fails_quietly_with_one_line(
    sqlite_database: Database,
    transport: AiohttpTransport,
    caplog: pytest.LogCaptureFixture,
    refused_port: int,
) -> None:
    prices = service(sqlite_database, transport, f"http://127.0.0.1:{refused_port}/api.json")
    await prices.rebuild()
    with pytest.raises(RefreshFailed, match="connection failed"):
        await prices.refresh()
    caplog.set_level(logging.INFO, logger="octopus.prices")
    await prices._refresh_quietly()
    records = [r for r in caplog.records if r.name == "octopus.prices"]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    assert records[0].exc_info is None  # no stack trace
    assert prices.price_for("claude-sonnet-4-5") == Price(3, 15, 0.3, 3.75)


async def test_refresh_goes_through_the_global_proxy(
    sqlite_database: Database, transport: AiohttpTransport, fake: FakeHttp
) -> None:
    live = LiveSettings({"proxy_url": fake.base})
    prices = service(sqlite_database, transport, "http://models.invalid/api.json", live=live)
    assert await prices.refresh() == 2
    assert fake.seen[0].host == "models.invalid"  # the fake answered as the proxy


async def test_disabled_refresh_says_so(
    sqlite_database: Database, transport: AiohttpTransport
) -> None:
    with pytest.raises(RefreshFailed, match="disabled"):
        await service(sqlite_database, transport).refresh()


async def _until(condition: object, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.01)


async def test_schedule_refreshes_at_start_up_and_follows_the_interval_live(
    sqlite_database: Database, transport: AiohttpTransport, fake: FakeHttp
) -> None:
    live = LiveSettings({"model_info_update_interval": "0"})
    clock = FakeClock()
    prices = PriceService(
        sqlite_database.sessions, transport, clock, live, url=f"{fake.base}/api.json"
    )
    stopping = asyncio.Event()
    scheduler = Scheduler(clock, stopping, live)
    scheduler.start(prices.job())
    await asyncio.sleep(0.2)
    assert fake.seen == []  # 0 disables the refresh
    live.set("model_info_update_interval", "1")  # woken; next run is due an hour later
    await asyncio.sleep(0.2)
    assert fake.seen == []
    await scheduler.stop()

    live = LiveSettings()  # default 24 h: refresh at start-up
    prices = PriceService(
        sqlite_database.sessions, transport, clock, live, url=f"{fake.base}/api.json"
    )
    scheduler = Scheduler(clock, stopping, live)
    scheduler.start(prices.job())
    await _until(lambda: prices.last_update is not None)
    assert len(fake.seen) == 1
    stopping.set()
    await scheduler.stop()


async def test_price_writes_reach_another_instance(
    database: Database, transport: AiohttpTransport, fake: FakeHttp
) -> None:
    """Two instances on one database: the one that refreshes tells the other to rebuild."""
    other = service(database, transport)
    other_sync = ConfigSync(database.sessions, other.rebuild, poll_seconds=0.05)
    await other_sync.start()
    here_sync = ConfigSync(database.sessions, lambda: here.rebuild())
    here = PriceService(
        database.sessions, transport, FakeClock(), LiveSettings(),
        url=f"{fake.base}/api.json", reference=REFERENCE, changed=here_sync.changed,
    )  # fmt: skip
    try:
        await put(database, "gpt-4o-2024-05-13", Rates(5, 15), manual=False)
        await other.rebuild()
        assert other.price_for("gpt-4o-2024-05-13") == Price(5, 15)
        await here.refresh()  # the fake models.dev prices gpt-4o at 2.5/10/1.25
        await _until(lambda: other.price_for("gpt-4o-2024-05-13") == Price(2.5, 10, 1.25))
        await put(database, "gpt-4o-2024-05-13", Rates(7, 7), manual=True)
        await other.rebuild()
        await here.rebuild_prices()  # every row back to the reference
        await _until(lambda: other.price_for("gpt-4o-2024-05-13") == Price(2.5, 10, 1.25))
    finally:
        await other_sync.stop()
