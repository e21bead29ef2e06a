"""What the admin CRUD handlers share: a store call in a session, path ids, catalog reload."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from starlette.requests import Request

from octopus.services.container import Services
from octopus.store.errors import StoreRefusal
from octopus.web.admin.envelope import AdminError

T = TypeVar("T")
MAX_ID = 2**31 - 1  # the widest id column on every engine
MAX_SAFE = 2**53 - 1  # BIGINT everywhere, and exact in a JSON number


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


def path_id(request: Request, name: str = "id") -> int:
    raw = request.path_params.get(name, "")
    if not (isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 12):
        raise AdminError(400, f"Invalid parameter: '{name}' must be a positive integer")
    value = int(raw)
    if not 0 < value <= MAX_ID:
        raise AdminError(400, f"Invalid parameter: '{name}' must be between 1 and {MAX_ID}")
    return value


def body_id(body: dict[str, Any], name: str = "id") -> int:
    value = body.get(name)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise AdminError(400, f"Invalid request parameters: '{name}' must be a positive integer")
    return value


def boolean(body: dict[str, Any], name: str) -> bool:
    value = body[name]
    if not isinstance(value, bool):
        raise AdminError(400, f"Invalid request parameters: '{name}' must be true or false")
    return value


def integer(body: dict[str, Any], name: str, low: int = 0, high: int | None = None) -> int:
    value = body[name]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise AdminError(400, f"Invalid request parameters: '{name}' must be an integer")
    if value < low or (high is not None and value > high):
        upper = f" and at most {high}" if high is not None else ""
        raise AdminError(400, f"Invalid request parameters: '{name}' must be at least {low}{upper}")
    return value


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
