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
    problem = unstorable(value, MAX_DEPTH)
    if problem is not None:
        raise AdminError(400, f"Invalid JSON format: {problem}")
    return value


def unstorable(value: Any, limit: int) -> str | None:
    """Why a parsed body cannot be taken (nesting past `limit`, a NUL character no database
    stores in text), else None; iterative, so any depth is safe to walk."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "text must not contain NUL characters"
            continue
        if isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            item = item.values()
        elif not isinstance(item, list):
            continue
        if depth >= limit:
            return f"nested deeper than {limit} levels"
        stack.extend((child, depth + 1) for child in item)
    return None


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
