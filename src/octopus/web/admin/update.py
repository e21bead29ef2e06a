"""/api/v1/update: the latest release on GitHub and the running version (no self-update)."""

from __future__ import annotations

import logging
from functools import partial

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from octopus import __version__
from octopus.errors import GatewayError
from octopus.services.container import Services
from octopus.upstream.github import latest_release, releases_url
from octopus.web.admin.envelope import AdminError, ok

log = logging.getLogger("octopus.update")


async def latest(services: Services, request: Request) -> Response:
    settings, live = services.settings, services.live_settings
    try:
        release = await latest_release(
            services.transport,
            releases_url(settings.update_repository),
            token=settings.github_pat,
            proxy_url=live.proxy_url,
        )
    except GatewayError as exc:
        log.info("update check failed", extra={"fields": {"error": exc.message}})
        raise AdminError(502, f"could not check for updates: {exc.message}") from None
    return ok(
        {
            "tag_name": release.tag_name,
            "published_at": release.published_at,
            "body": release.body,
            "message": release.message,
        }
    )


async def self_update(request: Request) -> Response:
    raise AdminError(
        501,
        "self-update is not supported: upgrade the package or the container image and restart",
    )


async def now_version(request: Request) -> Response:
    return ok(__version__)


def routes(services: Services) -> list[BaseRoute]:
    return [
        Route("/api/v1/update", partial(latest, services), methods=["GET"]),
        Route("/api/v1/update", self_update, methods=["POST"]),
        Route("/api/v1/update/now-version", now_version, methods=["GET"]),
    ]
