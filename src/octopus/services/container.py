"""`Services`: every long-lived object of one gateway, built once at start-up and handed to the
HTTP layer. Typed fields instead of `app.state`: mypy checks every use."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from octopus.coordination.config_sync import ConfigBus, ConfigSync
from octopus.coordination.live_fleet import LiveFleet
from octopus.core.clock import Clock
from octopus.live_settings import LiveSettings
from octopus.relay.limits import KeyLimiter
from octopus.relay.service import RelayService
from octopus.services.accounts import AuthService
from octopus.services.fan_out import FanOutSink
from octopus.services.live_log import LiveLog
from octopus.services.metrics import GatewayMetrics
from octopus.services.model_sync import ModelSync
from octopus.services.prices import PriceService
from octopus.services.scheduler import Scheduler
from octopus.settings import Settings
from octopus.store.catalog_loader import CatalogHolder, KeyHealthRecorder
from octopus.store.database import Database, Sessions
from octopus.store.writer import BatchWriter
from octopus.upstream.transport import Transport

Flusher = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Basics:
    """What exists before the database is open: made in `create_app`, shared with the lifespan."""

    settings: Settings
    clock: Clock
    live_settings: LiveSettings  # loaded from the DB at start; read live by CORS and handlers
    stopping: asyncio.Event  # set when shutdown begins: long-lived streams end
    flushers: list[Flusher]  # run in reverse order at shutdown


@dataclass(frozen=True)
class Services:
    basics: Basics
    db: Database
    auth: AuthService
    catalog: CatalogHolder
    channel_events: KeyHealthRecorder
    transport: Transport
    scheduler: Scheduler  # the periodic jobs: price refresh, model sync, log retention
    model_sync: ModelSync
    prices: PriceService
    log_writer: BatchWriter
    live_log: LiveLog
    metrics: GatewayMetrics
    record_sink: FanOutSink
    limiter: KeyLimiter
    relay: RelayService
    config: ConfigSync  # admin writes call `changed()`: every process reloads
    link: ConfigBus | None  # the Redis link when configured (its `mode` for /readyz)
    fleet: LiveFleet  # live log, running rounds and stop-round across every process

    @property
    def settings(self) -> Settings:
        return self.basics.settings

    @property
    def clock(self) -> Clock:
        return self.basics.clock

    @property
    def live_settings(self) -> LiveSettings:
        return self.basics.live_settings

    @property
    def stopping(self) -> asyncio.Event:
        return self.basics.stopping

    @property
    def sessions(self) -> Sessions:
        return self.db.sessions
