"""The relay's composition function, called once from octopus.app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from octopus.core.clock import Clock, SystemClock
from octopus.pricing.cost import PriceBook, StaticPriceBook
from octopus.records.bodies import BodyPolicy, BodySettings
from octopus.relay.channel_events import ChannelEvents, NullChannelEvents
from octopus.relay.exchange import ExchangeLimits
from octopus.relay.limits import InProcessLimiter, KeyLimiter
from octopus.relay.service import RelayLimits, RelayService
from octopus.relay.sink import NullSink, RecordSink
from octopus.routing.catalog import Catalog
from octopus.routing.state import RoutingState
from octopus.settings import Settings
from octopus.upstream.transport import Transport


@dataclass
class RelayParts:
    """The collaborators other packages implement; every one has a harmless default."""

    sink: RecordSink = field(default_factory=NullSink)
    prices: PriceBook = field(default_factory=StaticPriceBook)
    limiter: KeyLimiter | None = None  # default: InProcessLimiter(clock)
    events: ChannelEvents = field(default_factory=NullChannelEvents)
    clock: Clock = field(default_factory=SystemClock)
    bodies: BodySettings = field(default_factory=BodyPolicy)  # live: log_body_mode/_max_bytes
    routing: RoutingState | None = None  # default: RoutingState.in_memory(clock)


def limits_from(settings: Settings, bodies: BodySettings | None = None) -> RelayLimits:
    return RelayLimits(
        max_body_size=settings.relay_max_body_size,
        exchange=ExchangeLimits(max_sse_event_size=settings.relay_max_sse_event_size),
        bodies=bodies or BodyPolicy(),
    )


def build_relay(
    settings: Settings,
    catalog: Callable[[], Catalog],
    transport: Transport,
    parts: RelayParts | None = None,
) -> RelayService:
    """A RelayService with in-process routing state.

    `transport` is `octopus.upstream.lean_transport.LeanTransport` in production, built
    in octopus.app (only octopus.upstream may import aiohttp); the caller closes it at shutdown
    with `await transport.aclose()`.
    """
    parts = parts or RelayParts()
    return RelayService(
        catalog=catalog,
        transport=transport,
        sink=parts.sink,
        prices=parts.prices,
        limiter=parts.limiter or InProcessLimiter(parts.clock),
        routing=parts.routing or RoutingState.in_memory(parts.clock),
        events=parts.events,
        clock=parts.clock,
        limits=limits_from(settings, parts.bodies),
    )
