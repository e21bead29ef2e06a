"""The composition root: builds every object from Settings and wires them together; no globals."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from octopus.core.clock import Clock, SystemClock
from octopus.live_settings import LiveSettings
from octopus.services.build import build_services
from octopus.services.container import Basics, Flusher, Services
from octopus.services.first_admin import FirstPasswordRefused
from octopus.settings import Settings
from octopus.store.database import Database, open_database
from octopus.store.dsn import DsnError
from octopus.store.engine import DatabaseUnavailable
from octopus.web import health, metrics
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
from octopus.web.admin.body_limit import BodyLimit, admin_limits
from octopus.web.admin.envelope import AdminError, fail
from octopus.web.admin.guard import IMPORT_PATH, AdminGuard
from octopus.web.cors import CorsMiddleware
from octopus.web.panel_routes import panel_routes
from octopus.web.proxies import TrustedProxies
from octopus.web.relay_routes import RelayApp

log = logging.getLogger("octopus.app")
RELAY_PREFIXES = ("/v1/", "/v1beta/")


class StartupError(Exception):
    """A known reason the gateway cannot start; reported as one line, without a traceback."""


class Octopus:
    """Top-level ASGI app: client API paths go to the relay, the rest to the admin app.

    Both exist once the lifespan has built `services`; before that every request gets a 503.
    """

    def __init__(
        self,
        basics: Basics,
        lifespan: Callable[[Octopus], AbstractAsyncContextManager[None]],
    ) -> None:
        self.basics = basics
        self.admin: ASGIApp = _not_started
        self.relay: RelayApp | None = None
        self._services: Services | None = None
        self._lifespan = lifespan
        live = basics.live_settings
        # read live on every request: a settings change applies to the next one
        self._cors = CorsMiddleware(
            TrustedProxies(self._route, basics.settings.trusted_proxies),
            lambda: live.cors_allow_origins,
        )

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("the gateway has not started")
        return self._services

    def started(self, services: Services) -> None:
        self._services = services
        self.admin = admin_app(services)
        self.relay = RelayApp(services.relay)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._run_lifespan(receive, send)
            return
        await self._cors(scope, receive, send)

    def claim(self, scope: Scope) -> RelayApp | None:
        """The relay, for a relay request the server may hand it directly: nothing of the
        chain above it applies (CORS answers only requests with an Origin; the relay never
        reads the client address that trusted proxies rewrite)."""
        relay = self.relay
        if relay is None or not scope["path"].startswith(RELAY_PREFIXES):
            return None
        for name, _ in scope["headers"]:
            if name == b"origin":
                return None
        return relay

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
        context = self._lifespan(self)
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
    basics = Basics(settings, clock or SystemClock(), LiveSettings(), asyncio.Event(), [])

    @asynccontextmanager
    async def lifespan(octopus: Octopus) -> AsyncIterator[None]:
        db = await _open(settings)
        try:
            try:
                octopus.started(await build_services(basics, db))
            except FirstPasswordRefused as exc:
                raise StartupError(str(exc)) from None
            _freeze_heap()
            yield
        finally:
            basics.stopping.set()
            octopus.relay = None
            await _stop(basics.flushers, db)

    return Octopus(basics, lifespan)


def admin_app(services: Services) -> Starlette:
    """The panel and its /api/v1 routes, every one behind the admin guard but the public few."""
    return Starlette(
        routes=[
            *user.routes(services),
            *channel_routes.routes(services),
            *group_routes.routes(services),
            *runtime_routes.routes(services.relay, services.stopping),
            *apikey_routes.routes(services),
            *setting_routes.routes(services),
            *log_routes.routes(services),
            *stats_routes.routes(services),
            *model_routes.routes(services),
            *backup_routes.routes(services),
            *update_routes.routes(services),
            *metrics.routes(services),
            *health.routes(services),
            *panel_routes(),  # last: the panel's `/` and `/assets/...`
        ],
        middleware=[
            Middleware(BodyLimit, limit_for=admin_limits(IMPORT_PATH, services.settings)),
            Middleware(AdminGuard, auth=services.auth),
        ],
        exception_handlers={AdminError: _admin_error, HTTPException: _http_error},
    )


async def _not_started(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await PlainTextResponse("starting\n", status_code=503)(scope, receive, send)


# net new container objects between youngest-generation collections: above the live objects
# of a thousand open streams (about 85 each), so a collection runs when garbage piles up, not
# whenever the streams in flight are many (at 10,000: 68 µs of CPU per stream at N=1,000)
YOUNG_THRESHOLD = 100_000


def _freeze_heap() -> None:
    """Move start-up objects out of the collector's sight: full collections stay cheap.

    Requests leave no reference cycles (tests/web/test_native.py), so the youngest collection
    found almost nothing at the default 700: it ran on the objects of the requests in flight.
    """
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)


async def _open(settings: Settings) -> Database:
    try:
        return await open_database(settings)
    except (DsnError, DatabaseUnavailable) as exc:
        raise StartupError(f"database: {exc}") from None


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
