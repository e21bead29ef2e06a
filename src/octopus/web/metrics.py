"""`/metrics`: the Prometheus exposition of `services.metrics.GatewayMetrics` (off by default)."""

from __future__ import annotations

import hmac
from functools import partial

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from octopus.services.container import Services


async def metrics_endpoint(services: Services, request: Request) -> Response:
    """404 unless `metrics_enabled`; with a `metrics_token`, `Authorization: Bearer` is required."""
    settings = services.live_settings
    if not settings.metrics_enabled:
        return Response("not found\n", status_code=404, media_type="text/plain")
    token = settings.metrics_token
    if token:
        auth = request.headers.get("authorization", "")
        given = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            return Response(
                "unauthorized\n", status_code=401, media_type="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )  # fmt: skip
    return Response(services.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


def routes(services: Services) -> list[BaseRoute]:
    return [Route("/metrics", partial(metrics_endpoint, services), methods=["GET"])]
