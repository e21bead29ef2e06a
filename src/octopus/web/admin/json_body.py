"""Reading admin JSON bodies with the reference's messages for malformed input."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from starlette.requests import Request

from octopus.web.admin.envelope import AdminError

T = TypeVar("T")
_NO_DEFAULT: Any = object()
MAX_ADMIN_BODY = 64 * 1024 * 1024


async def json_body(request: Request) -> Any:
    if "application/json" not in request.headers.get("content-type", ""):
        raise AdminError(415, "Invalid JSON format: Content-Type must be application/json")
    raw = await request.body()
    if len(raw) > MAX_ADMIN_BODY:
        raise AdminError(413, "Request body too large")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise AdminError(400, "Invalid JSON format") from None


async def json_object(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise AdminError(400, "Invalid JSON format: expected an object")
    return body


def field(body: dict[str, Any], name: str, kind: type[T], default: Any = _NO_DEFAULT) -> T:
    """One typed field; a missing required field or a wrong type is a 400 naming the field."""
    if name not in body or body[name] is None:
        if default is _NO_DEFAULT:
            raise AdminError(400, f"Invalid request parameters: '{name}' is required")
        return default  # type: ignore[no-any-return]
    value = body[name]
    if kind is int and isinstance(value, float) and value.is_integer():
        value = int(value)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise AdminError(400, f"Invalid request parameters: '{name}' must be {kind.__name__}")
    return value
