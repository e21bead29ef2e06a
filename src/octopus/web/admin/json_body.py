"""Reading admin JSON bodies with the reference's messages for malformed input."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from starlette.requests import Request

from octopus.web.admin.envelope import AdminError
from octopus.web.admin.guard import media_type

T = TypeVar("T")
_NO_DEFAULT: Any = object()
MAX_DEPTH = 32  # no admin body nests deeper; deeper input would only feed recursive code


async def json_body(request: Request) -> Any:
    """The parsed body; its size is capped while it arrives (web/admin/body_limit.py)."""
    if media_type(request.headers) != "application/json":
        raise AdminError(415, "Invalid JSON format: Content-Type must be application/json")
    raw = await request.body()
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:  # invalid UTF-8 and nesting past orjson's limit land here too
        raise AdminError(400, "Invalid JSON format") from None
    if too_deep(value, MAX_DEPTH):
        raise AdminError(400, f"Invalid JSON format: nested deeper than {MAX_DEPTH} levels")
    return value


def too_deep(value: Any, limit: int) -> bool:
    """Whether containers nest past `limit`; iterative, so any depth is safe to measure."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in item)
    return False


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
