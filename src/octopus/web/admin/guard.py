"""ASGI guard: every /api/ route needs an admin session, but a few that check keys themselves."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

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


class AdminGuard:
    def __init__(self, app: ASGIApp, auth: AuthService) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/") or path in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        token = request_token(conn)
        if token and self.auth.verify(token):
            await self.app(scope, receive, send)
            return
        response = fail(401, "Authentication failed")
        if conn.cookies.get(COOKIE):
            response.delete_cookie(COOKIE, path="/")
        await response(scope, receive, send)
