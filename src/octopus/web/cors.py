"""CORS for the whole server (admin and relay), from the `cors_allow_origins` setting read live.

Empty: no cross-origin access. `*`: any origin, never with credentials. Other items name an
origin (`https://a.com`), a host (`a.com`: its https origin on the default port only) or a host
with a port (`a.com:8443`: either scheme on that port); a listed origin gets credentials.
A preflight from an origin not allowed is refused with 403; an actual request from it passes
without CORS headers (the browser then withholds the response), so a reverse proxy that
rewrites Host breaks nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALLOW_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
EXPOSE_HEADERS = "Content-Disposition"
MAX_AGE = "43200"


def allowed_origin(origin: str, items: Sequence[str]) -> tuple[str, bool] | None:
    """(Access-Control-Allow-Origin value, credentials allowed) for an origin, or None."""
    wanted = origin.rstrip("/").lower()
    try:
        parts = urlsplit(wanted)  # raises ValueError on a broken IPv6 host (`http://[::1`)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    for item in items:
        lowered = item.rstrip("/").lower()
        if lowered != "*" and _matches(lowered, wanted, parts.scheme, parts.netloc):
            return origin, True
    if "*" in items:
        return "*", False
    return None


def _matches(item: str, origin: str, scheme: str, netloc: str) -> bool:
    if "://" in item:
        return item == origin
    if ":" in item.rsplit("]", 1)[-1]:  # a port is given: that port, either scheme
        return item == netloc
    return scheme == "https" and item == netloc  # a bare host: https on the default port


class CorsMiddleware:
    def __init__(self, app: ASGIApp, origins: Callable[[], Sequence[str]]) -> None:
        self.app = app
        self.origins = origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not any(name == b"origin" for name, _ in scope["headers"]):
            await self.app(scope, receive, send)  # the common case: no Headers object built
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if not origin:
            await self.app(scope, receive, send)
            return
        decision = allowed_origin(origin, self.origins())
        preflight = scope["method"] == "OPTIONS" and "access-control-request-method" in headers
        if preflight:
            await self._preflight(decision, headers)(scope, receive, send)
        elif decision is None:
            await self.app(scope, receive, send)
        else:
            await self.app(scope, receive, _with_cors(send, decision))

    def _preflight(self, decision: tuple[str, bool] | None, headers: Headers) -> Response:
        if decision is None:
            return JSONResponse({"code": 403, "message": "origin not allowed by CORS"}, 403)
        response = Response(status_code=204)
        _add(response.headers, decision)
        response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
        requested = headers.get("access-control-request-headers")
        if requested:
            response.headers["Access-Control-Allow-Headers"] = requested
        response.headers["Access-Control-Max-Age"] = MAX_AGE
        response.headers.add_vary_header("Access-Control-Request-Method")
        response.headers.add_vary_header("Access-Control-Request-Headers")
        return response


def _add(headers: MutableHeaders, decision: tuple[str, bool]) -> None:
    value, credentials = decision
    headers["Access-Control-Allow-Origin"] = value
    if credentials:
        headers["Access-Control-Allow-Credentials"] = "true"
    headers.add_vary_header("Origin")


def _with_cors(send: Send, decision: tuple[str, bool]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            _add(headers, decision)
            headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        await send(message)

    return wrapped
