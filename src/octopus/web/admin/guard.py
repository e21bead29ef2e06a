"""ASGI guard for /api/: the content type of every admin POST, then an admin session (a few
routes check keys themselves), then the first-start lockdown: a session whose password is
still the initial one may only change it."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from octopus.services.account_cache import AccountUnavailable
from octopus.services.accounts import AuthService
from octopus.web.admin.auth import COOKIE, request_token
from octopus.web.admin.envelope import fail

PUBLIC_PATHS = frozenset(
    {
        "/api/v1/user/login",
        "/api/v1/user/logout",
        "/api/v1/apikey/login",
        "/api/v1/apikey/stats",
    }
)
# what a session that must change its password may still do
LOCKDOWN_PATHS = frozenset(
    {"/api/v1/user/change-password", "/api/v1/user/status", "/api/v1/user/info"}
)
IMPORT_PATH = "/api/v1/setting/import"
MULTIPART_PATHS = frozenset({IMPORT_PATH})
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
LOCKDOWN_MESSAGE = (
    "Change the admin password first: POST /api/v1/user/change-password "
    "(the panel opens on that form); nothing else is allowed until then"
)


def media_type(headers: Headers) -> str:
    """`application/json; charset=utf-8` → `application/json`; parameters never count."""
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def content_type_allowed(path: str, headers: Headers) -> bool:
    kind = media_type(headers)
    if not kind and body_less(headers) and "authorization" in headers:
        # Go clients POST actions like channel/sync bare; a cross-site page cannot set the header
        return True
    return kind == "application/json" or (path in MULTIPART_PATHS and kind == "multipart/form-data")


def body_less(headers: Headers) -> bool:
    """No body announced: no chunked transfer and a Content-Length of 0 or none."""
    return "transfer-encoding" not in headers and headers.get("content-length", "0") == "0"


def refusal(conn: HTTPConnection, status: int, message: str) -> Response:
    """The envelope; with a body still unread, the connection closes instead of draining it."""
    unread = not body_less(conn.headers)
    return fail(status, message, {"connection": "close"} if unread else None)


class AdminGuard:
    def __init__(self, app: ASGIApp, auth: AuthService) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/") or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        if scope["method"] in WITH_BODY and not content_type_allowed(path, conn.headers):
            # a cross-site form can send text/plain with the cookie; only a script can send JSON
            message = "Content-Type must be application/json"
            await refusal(conn, 415, message)(scope, receive, send)
            return
        if path in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        await self._guarded(conn, scope, receive, send)

    async def _guarded(
        self, conn: HTTPConnection, scope: Scope, receive: Receive, send: Send
    ) -> None:
        token = request_token(conn)
        try:
            session = await self.auth.session(token) if token else None
        except AccountUnavailable:
            message = "The database is unavailable; try again shortly"
            await refusal(conn, 503, message)(scope, receive, send)
            return
        if session is None:
            response = refusal(conn, 401, "Authentication failed")
            if conn.cookies.get(COOKIE):
                response.delete_cookie(COOKIE, path="/")
            await response(scope, receive, send)
            return
        if session.account.must_change_password and scope["path"] not in LOCKDOWN_PATHS:
            await refusal(conn, 403, LOCKDOWN_MESSAGE)(scope, receive, send)
            return
        await self.app(scope, receive, send)
