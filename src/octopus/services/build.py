"""Builds `Services` from an open database: each service started, its stop registered."""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

from octopus.coordination.config_sync import ConfigSync, Reload
from octopus.coordination.live_fleet import LiveFleet, LocalFleet
from octopus.core.clock import Clock
from octopus.core.throttle import LocalThrottles, LoginThrottles
from octopus.relay.build import RelayParts, build_relay
from octopus.relay.limits import InProcessLimiter, KeyLimiter
from octopus.relay.service import RelayService
from octopus.routing.affinity import InMemoryRoundRobin, InMemoryStickiness
from octopus.routing.state import RoutingState
from octopus.services import tokens
from octopus.services.accounts import AuthService, LoginGuards
from octopus.services.container import Basics, Services
from octopus.services.fan_out import FanOutSink
from octopus.services.first_admin import ensure_admin
from octopus.services.live_log import LiveLog
from octopus.services.metrics import GatewayMetrics
from octopus.services.model_sync import ModelSync
from octopus.services.passwords import HashPool
from octopus.services.prices import PriceService
from octopus.services.proxied import ProxiedOnDemand
from octopus.services.scheduler import Job, JobLease, Scheduler
from octopus.store import logs, stats, users
from octopus.store.catalog_loader import CatalogHolder, KeyHealthRecorder
from octopus.store.database import Database
from octopus.store.settings_kv import load_settings
from octopus.store.writer import BatchWriter
from octopus.upstream.lean_transport import LeanTransport
from octopus.upstream.transport import Transport

if TYPE_CHECKING:  # redis is imported only when configured
    from octopus.coordination.link import RedisLink

log = logging.getLogger("octopus.app")
RETENTION_EVERY = 3600.0


async def build_services(basics: Basics, db: Database) -> Services:
    link = _link(basics)
    auth = await _auth(db, basics, link)
    reloaders: list[Reload] = []
    poll = basics.settings.config_poll_seconds
    config = ConfigSync(db.sessions, lambda: _reload_all(reloaders), link, poll)
    catalog, events = await _catalog(basics, db, config)
    transport = _transport(basics)
    scheduler = Scheduler(basics.clock, basics.stopping, basics.live_settings, _lease(link))
    basics.flushers.append(scheduler.stop)
    sync = ModelSync(db.sessions, config.changed, transport, basics.live_settings, basics.clock)
    scheduler.start(sync.job())
    prices = await _prices(basics, db, transport, config)
    scheduler.start(prices.job())
    writer, live_log, metrics, sink = _logs(basics, db)
    scheduler.start(_retention(basics, db))
    limiter = await _limiter(basics, db, link)
    relay = build_relay(
        basics.settings,
        catalog.get,
        transport,
        RelayParts(
            sink=sink,
            prices=prices,
            limiter=limiter,
            events=events,
            clock=basics.clock,
            bodies=basics.live_settings,
            routing=_routing(basics.clock, link),
        ),
    )
    metrics.watch_health(relay.routing.health)
    fleet = _fleet(basics, link, live_log, relay)
    services = Services(
        basics, db, auth, catalog, events, transport, scheduler, sync, prices,
        writer, live_log, metrics, sink, limiter, relay, config, link, fleet,
    )  # fmt: skip
    reloaders.append(lambda: _reload_config(services))
    await _follow_config(basics, config, link)
    return services


def _link(basics: Basics) -> RedisLink | None:
    """One Redis connection per process for pub/sub and shared state, when configured."""
    settings = basics.settings
    if not settings.redis_url:
        return None
    # imported only when configured: redis costs a single-instance gateway 6 MB of memory
    from octopus.coordination.link import RedisLink

    link = RedisLink(settings.redis_url, settings.redis_prefix)
    basics.flushers.append(link.close)
    return link


def _routing(clock: Clock, link: RedisLink | None) -> RoutingState | None:
    """Cooldowns, probes, turns, pins and key rests shared by the fleet when Redis is."""
    if link is None:
        return None  # one instance: the relay keeps them in memory
    from octopus.coordination.routing import RedisRouting, SharedHealth, SharedKeyHealth

    health = SharedHealth(clock, link)
    return RoutingState(
        health=health,
        keys=SharedKeyHealth(clock, link),
        sticky=InMemoryStickiness(clock),
        turns=InMemoryRoundRobin(),
        shared=RedisRouting(link, health),
    )


def _fleet(
    basics: Basics, link: RedisLink | None, live_log: LiveLog, relay: RelayService
) -> LiveFleet:
    """The live log and running rounds of every process when Redis is shared."""
    if link is None:
        return LocalFleet(live_log, relay)  # one process: it is the whole gateway
    from octopus.coordination.live_fleet_redis import RedisFleet

    fleet = RedisFleet(link, live_log, relay)  # subscribes before the link starts listening
    fleet.start()
    basics.flushers.append(fleet.stop_announcing)
    return fleet


def _lease(link: RedisLink | None) -> JobLease | None:
    """Background jobs run once per period across the fleet when Redis is shared."""
    if link is None:
        return None  # one instance: every run is granted
    from octopus.coordination.lease import RedisLease

    return RedisLease(link)


async def _follow_config(basics: Basics, config: ConfigSync, link: RedisLink | None) -> None:
    """After every subscriber registered: listen, then follow the configuration version."""
    if link is not None:
        await link.start()
    await config.start()
    basics.flushers.append(config.stop)


async def _reload_all(reloaders: list[Reload]) -> None:
    for reload in reloaders:
        await reload()


async def _reload_config(services: Services) -> None:
    """Everything an admin write can change: settings, catalog, prices, the account."""
    async with services.sessions() as session:
        services.live_settings.load(await load_settings(session))
    await services.catalog.reload()
    await services.prices.rebuild()
    services.auth.accounts.invalidate()  # the account is re-read at once, not within 2 s


async def bootstrap_account(db: Database, admin_password: str) -> str:
    """The first account (services/first_admin.py) and the token secret, made on first start."""
    await ensure_admin(db, admin_password)
    async with db.sessions() as session:
        return await users.get_or_create_meta(session, "token_secret", tokens.new_secret())


async def _auth(db: Database, basics: Basics, link: RedisLink | None) -> AuthService:
    secret = await bootstrap_account(db, basics.settings.admin_password)
    guards = LoginGuards(_throttles(basics.clock, link), HashPool())
    auth = AuthService(db.sessions, secret, basics.clock, guards)
    basics.flushers.append(partial(_close, auth))
    return auth


def _throttles(clock: Clock, link: RedisLink | None) -> LoginThrottles:
    """Login attempts counted per process, or once for the fleet when Redis is shared."""
    local = LocalThrottles.default(clock)
    if link is None:
        return local
    from octopus.coordination.redis_throttle import RedisThrottles

    return RedisThrottles(link, local)


async def _close(auth: AuthService) -> None:
    auth.close()


async def _catalog(
    basics: Basics, db: Database, config: ConfigSync
) -> tuple[CatalogHolder, KeyHealthRecorder]:
    """Live settings from the DB, the routing catalog and key-health persistence."""
    live = basics.live_settings
    async with db.sessions() as session:
        live.load(await load_settings(session))
    holder = CatalogHolder(db.sessions, lambda: live.proxy_url)
    await holder.reload()
    events = KeyHealthRecorder(db.sessions, config.changed)
    basics.flushers.append(events.drain)
    return holder, events


def _transport(basics: Basics) -> Transport:
    transport = LeanTransport(proxied=ProxiedOnDemand())
    basics.flushers.append(transport.aclose)
    return transport


async def _prices(
    basics: Basics, db: Database, transport: Transport, config: ConfigSync
) -> PriceService:
    """The relay's PriceBook (DB rows > models.dev), refreshed in the background."""
    prices = PriceService(
        db.sessions,
        transport,
        basics.clock,
        basics.live_settings,
        url=basics.settings.models_dev_url,
        changed=config.changed,
    )
    await prices.rebuild()
    return prices


def _logs(basics: Basics, db: Database) -> tuple[BatchWriter, LiveLog, GatewayMetrics, FanOutSink]:
    """Request logs, stats and metrics: the fan-out sink is what the relay reports to."""
    live = basics.live_settings
    writer = BatchWriter(db.sessions, body_settings=live)
    live_log = LiveLog()
    metrics = GatewayMetrics(writer)
    sink = FanOutSink([writer, live_log, metrics])
    writer.start()
    basics.flushers.append(writer.flush)
    return writer, live_log, metrics, sink


def _retention(basics: Basics, db: Database) -> Job:
    """Expired logs purged at start-up, then hourly."""
    purge = partial(
        logs.purge_quietly,
        db.sessions,
        basics.live_settings,
        basics.clock,
        zone=basics.settings.zone,
    )
    return Job("log-retention", purge, lambda: RETENTION_EVERY)


async def _limiter(basics: Basics, db: Database, link: RedisLink | None) -> KeyLimiter:
    """Per-key limits in-process, or shared through the Redis link when several instances run."""
    async with db.sessions() as session:
        spent = await stats.key_spent(session)  # seeds each key's max_cost budget
    if link is None:
        return InProcessLimiter(basics.clock, spent)
    from octopus.coordination.redis_limiter import RedisLimiter

    limiter = RedisLimiter(link, basics.clock)
    await limiter.seed(spent)
    basics.flushers.append(limiter.drain)  # before the link closes (flushers run in reverse)
    log.info("key limits shared through redis")
    return limiter
