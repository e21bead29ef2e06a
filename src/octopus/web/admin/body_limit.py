"""Admin request bodies are capped while they arrive: Content-Length is checked before anything
is read, and a running count stops a chunked body at the cap, so memory stays flat whatever a
client sends, authenticated or not."""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from octopus.settings import Settings
from octopus.web.admin.envelope import AdminError, fail

ADMIN_BODY_LIMIT = 1024 * 1024
TOO_LARGE = "Request body too large"


class BodyTooLarge(AdminError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"{TOO_LARGE}: at most {limit} bytes")


class BodyLimit:
    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            await fail(413, BodyTooLarge(limit).message)(scope, receive, send)
            return
        await self.app(scope, _counting(receive, limit), send)


def _counting(receive: Receive, limit: int) -> Receive:
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    return counted


def admin_limits(import_path: str, settings: Settings) -> Callable[[str], int]:
    """1 MiB everywhere, `server.max_import_size` for the backup import."""

    def limit_for(path: str) -> int:
        return settings.max_import_size if path == import_path else ADMIN_BODY_LIMIT

    return limit_for
