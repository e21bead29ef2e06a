"""PriceService: the relay's PriceBook (an in-memory snapshot) plus the models.dev refresh.

Effective price of a model: its DB row (manual or stored) > the models.dev reference, both found
by `pricing.model_match` (exact id, else the longest contiguous segment match). The snapshot is
rebuilt after every price edit, refresh and import; `price_for` never reads the database. A
refresh or rebuild writes rows, then calls `changed` so every instance rebuilds its snapshot
(the scheduled refresh runs on one instance of a fleet: the others take its rows this way).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from octopus.core.clock import Clock
from octopus.errors import GatewayError
from octopus.live_settings import LiveSettings
from octopus.pricing.cost import Price
from octopus.pricing.model_match import NameMatcher, Rates, parse_models_dev
from octopus.services.scheduler import Job
from octopus.store import prices as store
from octopus.store.database import Sessions
from octopus.upstream.modelsdev import fetch_models_dev
from octopus.upstream.transport import Transport

log = logging.getLogger("octopus.prices")
HOUR = 3600
INTERVAL_KEYS = frozenset({"model_info_update_interval"})
FETCH_TIMEOUT = 120.0
MEMO_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class Entry:
    rates: Rates
    source: str  # "manual", "stored" (a non-manual DB row) or "models.dev"


@dataclass(frozen=True, slots=True)
class Resolved:
    price: Price
    source: str
    matched: str  # the table id that priced the name
    exact: bool


class RefreshFailed(Exception):
    """models.dev could not be read; the message is safe to show."""


def _price(rates: Rates) -> Price:
    return Price(rates.input, rates.output, rates.cache_read, rates.cache_write)


class PriceTable:
    """One immutable snapshot: the reference overlaid by the DB rows, with a lookup memo."""

    def __init__(self, rows: list[store.PriceRow], reference: Mapping[str, Rates]) -> None:
        table = {name: Entry(rates, "models.dev") for name, rates in reference.items()}
        for row in rows:
            # an all-zero non-manual row means "not configured" (as in the reference UI)
            if row.manual or not row.rates.is_zero:
                table[row.name] = Entry(row.rates, "manual" if row.manual else "stored")
        self._matcher = NameMatcher(table)
        self._memo: dict[str, Resolved | None] = {}

    def resolve(self, model: str) -> Resolved | None:
        key = model.strip().lower()
        if key in self._memo:
            return self._memo[key]
        match = self._matcher.lookup(key)
        found = None
        if match is not None:
            entry = match.value
            found = Resolved(_price(entry.rates), entry.source, match.key, match.exact)
        if len(self._memo) < MEMO_LIMIT:
            self._memo[key] = found
        return found


class PriceService:
    """Implements `pricing.cost.PriceBook`; held as `Services.prices`."""

    def __init__(  # noqa: PLR0913 - its ports; the optional ones keyword-only
        self,
        sessions: Sessions,
        transport: Transport,
        clock: Clock,
        live: LiveSettings,
        *,
        url: str = "",
        reference: Mapping[str, Rates] | None = None,
        changed: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._sessions = sessions
        self._transport = transport
        self._clock = clock
        self._live = live
        self.url = url  # "" disables the remote refresh (the shipped snapshot stays)
        self._changed = changed  # bumps the shared configuration version: every instance reloads
        self._reference = dict(store.snapshot_reference() if reference is None else reference)
        self._ref_matcher = NameMatcher(self._reference)
        self._table = PriceTable([], self._reference)
        self._lock = asyncio.Lock()
        self.last_update: float | None = None  # unix seconds of the last successful refresh

    def price_for(self, model: str) -> Price | None:
        found = self._table.resolve(model)
        return None if found is None else found.price

    def resolve(self, model: str) -> Resolved | None:
        return self._table.resolve(model)

    def reference_rates(self, model: str) -> Rates | None:
        """The models.dev price alone (ignoring DB rows)."""
        match = self._ref_matcher.lookup(model)
        return None if match is None else match.value

    @property
    def reference_size(self) -> int:
        return len(self._reference)

    async def rebuild(self) -> None:
        """Re-read the DB rows and swap in a new snapshot."""
        async with self._sessions() as session:
            rows = await store.list_rows(session)
        self._table = PriceTable(rows, self._reference)

    async def rebuild_prices(self) -> int:
        """Every stored price back to the current models.dev reference (zeros when unmatched)."""
        async with self._lock:
            async with self._sessions() as session:
                count = await store.rebuild_all(
                    session, self.reference_rates, int(self._clock.time())
                )
            await self.rebuild()
        await self._announce()
        return count

    async def refresh(self) -> int:
        """Download models.dev, replace the reference, re-price non-manual rows, rebuild.

        Returns the number of reference models; raises RefreshFailed (the last table stays)."""
        if not self.url:
            raise RefreshFailed("models.dev refresh is disabled (no URL configured)")
        async with self._lock:
            reference = await self._download()
            self._reference = reference
            self._ref_matcher = NameMatcher(reference)
            now = int(self._clock.time())
            async with self._sessions() as session:
                await store.refresh_automatic(session, self.reference_rates, now)
            await self.rebuild()
            self.last_update = self._clock.time()
        await self._announce()
        return len(reference)

    async def _announce(self) -> None:
        """Price rows changed: the other instances rebuild from them too."""
        if self._changed is not None:
            await self._changed()

    async def _download(self) -> dict[str, Rates]:
        try:
            async with asyncio.timeout(FETCH_TIMEOUT):
                doc = await fetch_models_dev(self._transport, self.url, self._live.proxy_url)
            reference = parse_models_dev(doc)
        except (GatewayError, ValueError) as exc:
            raise RefreshFailed(str(exc)) from None
        except TimeoutError:
            raise RefreshFailed(f"no answer within {FETCH_TIMEOUT:.0f} s") from None
        if not reference:
            raise RefreshFailed("models.dev answered without any usable price")
        return reference

    def job(self) -> Job:
        """Refresh at start-up, then every `model_info_update_interval` hours (0: never)."""
        return Job("price-refresh", self._refresh_quietly, self._every, INTERVAL_KEYS)

    def _every(self) -> float:
        return self._live.model_info_update_interval * HOUR if self.url else 0.0

    async def _refresh_quietly(self) -> None:
        try:
            count = await self.refresh()
        except RefreshFailed as exc:
            log.warning(
                "price refresh failed; keeping the current prices",
                extra={"fields": {"error": str(exc)}},
            )
        except Exception:
            log.exception("price refresh failed; keeping the current prices")
        else:
            log.info("prices refreshed from models.dev", extra={"fields": {"models": count}})
