"""Probes for orchestrators and load balancers; unauthenticated, cheap, nothing secret.

GET /healthz   200 {"status": "alive"}: the process answers
GET /readyz    200 when the database answers and the catalog is loaded, else 503;
               reports the coordination mode (`redis`, `local-fallback`, or `local` when no
               Redis is configured), the configuration version, and this worker's pid
GET /api/v1/runtime/coordination   the same for the admin (plus `workers`), in the envelope
"""

from __future__ import annotations

import os
import time
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from octopus.services.container import Services
from octopus.store.database import ping
from octopus.web.admin.envelope import ok

DB_CHECK_SECONDS = 1.0  # one database round trip per second at most, however often probed


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "alive"})


class _DatabaseCheck:
    """The last ping's answer, reused for a second: probes cannot load the database."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._checked_at = -DB_CHECK_SECONDS
        self._ok = False

    async def ok(self) -> bool:
        if time.monotonic() - self._checked_at >= DB_CHECK_SECONDS:
            self._ok = await ping(self._services.db)
            self._checked_at = time.monotonic()
        return self._ok


async def readyz(services: Services, database: _DatabaseCheck, request: Request) -> Response:
    reachable = await database.ok()
    loaded = services.catalog.loaded
    ready = reachable and loaded
    body: dict[str, Any] = {
        "status": "ready" if ready else "not ready",
        "database": "ok" if reachable else "unreachable",
        "catalog": "loaded" if loaded else "loading",
        **_coordination(services),
    }
    return JSONResponse(body, status_code=200 if ready else 503)


async def coordination(services: Services, request: Request) -> Response:
    """Admin view of how this process shares state (behind the admin guard)."""
    return ok({**_coordination(services), "workers": services.settings.workers})


def _coordination(services: Services) -> dict[str, Any]:
    return {
        "coordination": services.link.mode if services.link is not None else "local",
        "config_version": services.config.version,
        "pid": os.getpid(),
    }


def routes(services: Services) -> list[BaseRoute]:
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", partial(readyz, services, _DatabaseCheck(services)), methods=["GET"]),
        Route("/api/v1/runtime/coordination", partial(coordination, services), methods=["GET"]),
    ]
