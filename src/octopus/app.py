"""The composition root: builds every object from Settings and wires them together; no globals."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from octopus.core import tokens
from octopus.core.clock import Clock, SystemClock
from octopus.core.live_settings import LiveSettings
from octopus.core.passwords import hash_password_async
from octopus.core.throttle import LoginThrottle
from octopus.relay.build import RelayParts, build_relay
from octopus.relay.limits import InProcessLimiter, KeyLimiter
from octopus.settings import Settings
from octopus.store import logs, stats, users
from octopus.store.catalog_loader import CatalogHolder, KeyHealthRecorder
from octopus.store.database import Database, open_database
from octopus.store.dsn import DsnError
from octopus.store.engine import DatabaseUnavailable
from octopus.store.settings_kv import load_settings
from octopus.store.writer import BatchWriter
from octopus.upstream.aiohttp_transport import AiohttpTransport
from octopus.web import metrics
from octopus.web.admin import apikeys as apikey_routes
from octopus.web.admin import backup as backup_routes
from octopus.web.admin import channels as channel_routes
from octopus.web.admin import groups as group_routes
from octopus.web.admin import logs as log_routes
from octopus.web.admin import models as model_routes
from octopus.web.admin import runtime as runtime_routes
from octopus.web.admin import settings as setting_routes
from octopus.web.admin import stats as stats_routes
from octopus.web.admin import update as update_routes
from octopus.web.admin import user
from octopus.web.admin.auth import AuthService, account_of
from octopus.web.admin.envelope import AdminError, fail
from octopus.web.admin.guard import AdminGuard
from octopus.web.admin.price_service import PriceService
from octopus.web.admin.sync import ModelSync
from octopus.web.cors import CorsMiddleware
from octopus.web.live_log import FanOutSink, LiveLog
from octopus.web.panel_routes import panel_routes
from octopus.web.relay_routes import RelayApp

log = logging.getLogger("octopus.app")
RELAY_PREFIXES = ("/v1/", "/v1beta/")
Flusher = Callable[[], Awaitable[None]]


class StartupError(Exception):
    """A known reason the gateway cannot start; reported as one line, without a traceback."""


class Octopus:
    """Top-level ASGI app: client API paths go to the relay, the rest to the admin app."""

    def __init__(
        self,
        admin: Starlette,
        relay: ASGIApp | None,
        lifespan: Callable[[], AbstractAsyncContextManager[None]],
    ) -> None:
        self.admin = admin
        self.relay = relay
        self._lifespan = lifespan
        # read live on every request: a settings change applies to the next one
        self._cors = CorsMiddleware(
            self._route, lambda: admin.state.live_settings.cors_allow_origins
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._run_lifespan(receive, send)
            return
        await self._cors(scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.relay is not None
            and scope["type"] == "http"
            and scope["path"].startswith(RELAY_PREFIXES)
        ):
            await self.relay(scope, receive, send)
            return
        await self.admin(scope, receive, send)

    async def _run_lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        context = self._lifespan()
        try:
            await context.__aenter__()
        except StartupError as exc:
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        except Exception as exc:
            log.exception("start-up failed")
            await send({"type": "lifespan.startup.failed", "message": f"start-up failed: {exc}"})
            return
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        try:
            await context.__aexit__(None, None, None)
        except Exception as exc:
            log.exception("shutdown failed")
            await send({"type": "lifespan.shutdown.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.shutdown.complete"})


def create_app(settings: Settings, *, clock: Clock | None = None) -> Octopus:
    clock = clock or SystemClock()
    stopping = asyncio.Event()
    flushers: list[Flusher] = []

    admin = Starlette(
        routes=[
            *user.routes(),
            *channel_routes.routes(),
            *group_routes.routes(),
            *runtime_routes.routes(),
            *apikey_routes.routes(),
            *setting_routes.routes(),
            *log_routes.routes(),
            *stats_routes.routes(),
            *model_routes.routes(),
            *backup_routes.routes(),
            *update_routes.routes(),
            *metrics.routes(),
            *panel_routes(),  # last: the panel's `/` and `/assets/...`
        ],
        middleware=[Middleware(AdminGuard)],
        exception_handlers={AdminError: _admin_error, HTTPException: _http_error},
    )
    admin.state.settings = settings
    admin.state.clock = clock
    admin.state.stopping = stopping
    admin.state.flushers = flushers
    admin.state.live_settings = LiveSettings()

    @asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        db = await _open(settings)
        try:
            await _start(admin, db, settings, clock)
            octopus.relay = await _start_relay(admin, db, settings, clock)
            _freeze_heap()
            yield
        finally:
            stopping.set()
            octopus.relay = None
            await _stop(flushers, db)

    octopus = Octopus(admin, None, lifespan)
    return octopus


def _freeze_heap() -> None:
    """Move start-up objects out of the collector's sight: full collections stay cheap."""
    gc.collect()
    gc.freeze()


async def _open(settings: Settings) -> Database:
    try:
        return await open_database(settings)
    except (DsnError, DatabaseUnavailable) as exc:
        raise StartupError(f"database: {exc}") from None


async def _start(app: Starlette, db: Database, settings: Settings, clock: Clock) -> None:
    app.state.db = db
    app.state.sessions = db.sessions
    async with db.sessions() as session:
        if await users.ensure_admin(session, lambda: hash_password_async("admin")):
            log.warning("created the initial account admin/admin: change its password now")
        secret = await users.get_or_create_meta(session, "token_secret", tokens.new_secret())
        account = await users.first_user(session)
    if account is None:  # pragma: no cover - ensure_admin just made one
        raise RuntimeError("no admin account")
    app.state.auth = AuthService(
        db.sessions, secret, account_of(account), clock, LoginThrottle(clock)
    )
    await _start_catalog(app, db, clock)
    await _start_prices(app, db, settings, clock)
    _start_logs(app, db, clock)


async def _start_catalog(app: Starlette, db: Database, clock: Clock) -> None:
    """Live settings from the DB, the routing catalog, key-health persistence, model auto-sync."""
    live: LiveSettings = app.state.live_settings
    async with db.sessions() as session:
        live.load(await load_settings(session))
    holder = CatalogHolder(db.sessions, lambda: live.proxy_url)
    await holder.reload()
    app.state.catalog = holder
    app.state.channel_events = KeyHealthRecorder(db.sessions, holder)
    app.state.flushers.append(app.state.channel_events.drain)
    if getattr(app.state, "transport", None) is None:
        app.state.transport = AiohttpTransport()
        app.state.flushers.append(app.state.transport.aclose)
    sync = ModelSync(db.sessions, holder, app.state.transport, live, clock)
    app.state.model_sync = sync
    sync.start()
    app.state.flushers.append(sync.stop)


async def _start_prices(app: Starlette, db: Database, settings: Settings, clock: Clock) -> None:
    """`prices`: the relay's PriceBook (DB rows > models.dev), refreshed in the background."""
    prices = PriceService(
        db.sessions,
        app.state.transport,
        clock,
        app.state.live_settings,
        url=settings.models_dev_url,
    )
    await prices.rebuild()
    app.state.prices = prices
    prices.start(app.state.stopping)
    app.state.flushers.append(prices.stop)


def _start_logs(app: Starlette, db: Database, clock: Clock) -> None:
    """Request logs, stats and metrics: `record_sink` is what the relay reports to."""
    live_settings: LiveSettings = app.state.live_settings
    writer = BatchWriter(db.sessions, body_settings=live_settings)
    app.state.log_writer = writer
    app.state.live_log = LiveLog()
    app.state.metrics = metrics.GatewayMetrics(writer)
    app.state.record_sink = FanOutSink([writer, app.state.live_log, app.state.metrics])
    writer.start()
    app.state.flushers.append(writer.flush)
    retention = asyncio.create_task(
        logs.run_retention(db.sessions, live_settings, clock, app.state.stopping),
        name="log-retention",
    )
    app.state.flushers.append(lambda: asyncio.wait_for(retention, timeout=10))


async def _start_relay(app: Starlette, db: Database, settings: Settings, clock: Clock) -> RelayApp:
    """The relay over the live catalog, reporting to the log sink, billed by the price book."""
    async with db.sessions() as session:
        spent = await stats.key_spent(session)  # seeds each key's max_cost budget
    limiter = await _limiter(app, settings, clock, spent)
    relay = build_relay(
        settings,
        app.state.catalog.get,
        app.state.transport,
        RelayParts(
            sink=app.state.record_sink,
            prices=app.state.prices,
            limiter=limiter,
            events=app.state.channel_events,
            clock=clock,
            bodies=app.state.live_settings,
        ),
    )
    app.state.relay = relay
    app.state.metrics.watch_health(relay.routing.health)
    return RelayApp(relay)


async def _limiter(
    app: Starlette, settings: Settings, clock: Clock, spent: dict[int, float]
) -> KeyLimiter:
    """Per-key limits in-process, or shared through Redis when several instances run."""
    if not settings.redis_url:
        return InProcessLimiter(clock, spent)
    # imported only when configured: redis costs a single-instance gateway 6 MB of memory
    from redis.asyncio import Redis

    from octopus.shared.redis_limiter import RedisLimiter

    client = Redis.from_url(settings.redis_url)
    limiter = RedisLimiter(client, clock, settings.redis_prefix)
    await limiter.seed(spent)
    app.state.flushers.append(client.aclose)
    app.state.flushers.append(limiter.drain)
    log.info("key limits shared through redis")
    return limiter


async def _stop(flushers: list[Flusher], db: Database) -> None:
    for flush in reversed(flushers):
        try:
            await flush()
        except Exception:
            log.exception("a flusher failed at shutdown")
    await db.close()


async def _admin_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, AdminError):  # pragma: no cover - registered for AdminError only
        raise exc
    return fail(exc.status, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # pragma: no cover - registered for HTTPException only
        raise exc
    return fail(exc.status_code, "Resource not found" if exc.status_code == 404 else exc.detail)
