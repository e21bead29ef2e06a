"""The admin API's one response shape: {code, message, data}; errors carry the status as code."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class EnvelopeResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def ok(data: Any = None) -> Response:
    body: dict[str, Any] = {"code": 200, "message": "success"}
    if data is not None:
        body["data"] = data
    return EnvelopeResponse(body)


def fail(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return EnvelopeResponse(
        {"code": status, "message": message}, status_code=status, headers=headers
    )


class AdminError(Exception):
    """Raised by admin handlers; rendered as the envelope by the app's exception handler."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def not_found(what: str = "Resource not found") -> AdminError:
    return AdminError(404, what)


def invalid(message: str) -> AdminError:
    return AdminError(400, message)
