"""What the admin CRUD handlers share: a store call in a session, path ids, catalog reload."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from starlette.requests import Request

from octopus.services.container import Services
from octopus.store.errors import StoreRefusal
from octopus.web.admin.envelope import AdminError

T = TypeVar("T")
MAX_ID = 2**31 - 1  # the widest id column on every engine
MAX_SAFE = 2**53 - 1  # BIGINT everywhere, and exact in a JSON number
_INTEGER = re.compile(r"-?[0-9]{1,19}")


async def in_session(
    services: Services, action: Callable[[Any], Awaitable[T]], *, reload: bool = False
) -> T:
    """Run one store call; store refusals become envelope errors; `reload` refreshes routing."""
    try:
        async with services.sessions() as session:
            result = await action(session)
    except StoreRefusal as exc:
        raise AdminError(exc.status, exc.message) from None
    if reload:  # bump the shared version, reload here, tell every other process
        await services.config.changed()
    return result


def bounded_int(value: Any, name: str, low: int, high: int) -> int:
    """The one integer reader of the admin API: an int, an integral float or decimal text of at
    most 19 digits, within [low, high] (beyond, a database column would overflow)."""
    if isinstance(value, str):
        value = int(value) if _INTEGER.fullmatch(value) else None
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        kind = "a positive integer" if low == 1 else "an integer"
        raise AdminError(400, f"Invalid request parameters: '{name}' must be {kind}")
    if not low <= value <= high:
        raise AdminError(
            400, f"Invalid request parameters: '{name}' must be at least {low} and at most {high}"
        )
    return value


def path_id(request: Request, name: str = "id") -> int:
    return bounded_int(request.path_params.get(name, ""), name, 1, MAX_ID)


def int_param(
    params: Mapping[str, str],
    name: str,
    default: int | None = None,
    *,
    low: int = -MAX_SAFE,
    high: int = MAX_SAFE,
) -> int | None:
    """An optional integer query value within [low, high]."""
    raw = params.get(name, "").strip()
    return default if raw == "" else bounded_int(raw, name, low, high)


def body_id(body: dict[str, Any], name: str = "id") -> int:
    return integer({name: body.get(name)}, name, 1, MAX_ID)


def boolean(body: dict[str, Any], name: str) -> bool:
    value = body[name]
    if not isinstance(value, bool):
        raise AdminError(400, f"Invalid request parameters: '{name}' must be true or false")
    return value


def integer(body: dict[str, Any], name: str, low: int = 0, high: int = MAX_SAFE) -> int:
    """A JSON number (text is refused, as the Go project's decoder does) within [low, high]."""
    value = body[name]
    if isinstance(value, str):
        value = None
    return bounded_int(value, name, low, high)


def text(body: dict[str, Any], name: str, max_length: int = 191, *, required: bool = False) -> str:
    value = body[name]
    if not isinstance(value, str):
        raise AdminError(400, f"Invalid request parameters: '{name}' must be a string")
    value = value.strip()
    if required and not value:
        raise AdminError(400, f"Invalid request parameters: '{name}' must not be empty")
    if len(value) > max_length:
        raise AdminError(400, f"Invalid request parameters: '{name}' is longer than {max_length}")
    return value


def match_regex(value: Any) -> str | None:
    """A channel or group `match_regex`: text that compiles, at most 1024; "" or null = none."""
    pattern = "" if value is None else text({"match_regex": value}, "match_regex", 1024)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise AdminError(400, f"match_regex does not compile: {exc}") from None
    return pattern or None


def name_list(body: dict[str, Any], name: str) -> list[str]:
    """A comma-separated string or a list of strings, trimmed and de-duplicated."""
    value = body[name]
    if isinstance(value, str):
        parts = value.split(",")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        parts = [p for v in value for p in v.split(",")]
    else:
        raise AdminError(
            400, f"Invalid request parameters: '{name}' must be a comma-separated string or a list"
        )
    return list(dict.fromkeys(p.strip() for p in parts if p.strip()))
