"""/api/v1/apikey: client API keys. The full key is shown once, at creation; only its sha256
and a masked display form are stored."""

from __future__ import annotations

import math
import secrets
import string
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from octopus.errors import GatewayError
from octopus.relay.auth import KEY_PREFIX, authenticate, hash_key
from octopus.services.container import Services
from octopus.store import apikeys as store
from octopus.store.tables import ApiKey
from octopus.web.admin.access import (
    body_id,
    boolean,
    in_session,
    integer,
    name_list,
    path_id,
    text,
)
from octopus.web.admin.envelope import AdminError, fail, ok
from octopus.web.admin.json_body import json_object

ALPHABET = string.digits + string.ascii_letters
KEY_LENGTH = 48
MAX_LIMIT = 1_000_000_000


def new_key() -> str:
    return KEY_PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(KEY_LENGTH))


CUSTOM_MIN, CUSTOM_MAX = 32, 128
_CUSTOM_CHARS = frozenset(string.ascii_letters + string.digits + "-_.")


def display_prefix(key: str) -> str:
    """`sk-octopus-AbCd…wxyz`: enough to recognise a key, useless to use it."""
    shown = len(KEY_PREFIX) + 4 if key.startswith(KEY_PREFIX) else 4
    return f"{key[:shown]}…{key[-4:]}"


def custom_key(body: dict[str, Any]) -> str | None:
    """A key value the admin chose at creation (Go #206): 32–128 of [A-Za-z0-9._-]."""
    value = body.get("api_key")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not CUSTOM_MIN <= len(value) <= CUSTOM_MAX:
        raise AdminError(
            400,
            f"Invalid request parameters: 'api_key' must be {CUSTOM_MIN}-{CUSTOM_MAX} characters",
        )
    if not set(value) <= _CUSTOM_CHARS:
        raise AdminError(
            400, "Invalid request parameters: 'api_key' may use only letters, digits, '-', '_', '.'"
        )
    return value


def api_key_view(row: ApiKey) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "api_key_prefix": row.key_prefix,
        "api_key": row.key_prefix,  # the Go field, masked: only the sha256 is stored
        "enabled": row.enabled,
        "expire_at": row.expire_at,
        "max_cost": row.max_cost,
        "supported_models": row.supported_models,
        "max_rpm": row.max_rpm,
        "max_tpm": row.max_tpm,
        "max_concurrency": row.max_concurrency,
        "created_at": row.created_at,
    }


def _cost(body: dict[str, Any]) -> float:
    value = body["max_cost"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AdminError(400, "Invalid request parameters: 'max_cost' must be a number")
    if value < 0:
        raise AdminError(400, "Invalid request parameters: 'max_cost' must be at least 0")
    return float(value)


_PARSERS: dict[str, Any] = {
    "name": lambda b: text(b, "name", required=True),
    "enabled": lambda b: boolean(b, "enabled"),
    "expire_at": lambda b: integer(b, "expire_at", 0, 253402300799),
    "max_cost": _cost,
    "supported_models": lambda b: ",".join(name_list(b, "supported_models")),
    "max_rpm": lambda b: integer(b, "max_rpm", 0, MAX_LIMIT),
    "max_tpm": lambda b: integer(b, "max_tpm", 0, MAX_LIMIT),
    "max_concurrency": lambda b: integer(b, "max_concurrency", 0, MAX_LIMIT),
}


def api_key_values(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    if not partial and body.get("name") is None:
        raise AdminError(400, "Invalid request parameters: 'name' is required")
    return {name: parse(body) for name, parse in _PARSERS.items() if body.get(name) is not None}


async def create_api_key(services: Services, request: Request) -> Response:
    body = await json_object(request)
    values = api_key_values(body, partial=False)
    key = custom_key(body) or new_key()
    row = await in_session(
        services,
        lambda s: store.create_api_key(s, values, hash_key(key), display_prefix(key)),
        reload=True,
    )
    return ok({**api_key_view(row), "api_key": key})


async def list_api_keys(services: Services, request: Request) -> Response:
    rows = await in_session(services, store.list_api_keys)
    return ok([api_key_view(r) for r in rows])


async def update_api_key(services: Services, request: Request) -> Response:
    body = await json_object(request)
    key_id, values = body_id(body), api_key_values(body, partial=True)
    row = await in_session(services, lambda s: store.update_api_key(s, key_id, values), reload=True)
    return ok(api_key_view(row))


async def delete_api_key(services: Services, request: Request) -> Response:
    key_id = path_id(request)
    await in_session(services, lambda s: store.delete_api_key(s, key_id), reload=True)
    return ok()


def presented_key(request: Request) -> str:
    """The client key from `Authorization: Bearer …` or `x-api-key`."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.headers.get("x-api-key", "").strip()


async def login(services: Services, request: Request) -> Response:
    """Checks a client key for the panel's API-key login; 401 for unknown, disabled or expired."""
    try:
        authenticate(services.catalog.current, presented_key(request), services.clock.time())
    except GatewayError as exc:
        return fail(401, exc.message)
    return ok()


def routes(services: Services) -> list[BaseRoute]:
    prefix = "/api/v1/apikey"
    return [
        Route(f"{prefix}/create", partial(create_api_key, services), methods=["POST"]),
        Route(f"{prefix}/list", partial(list_api_keys, services), methods=["GET"]),
        Route(f"{prefix}/update", partial(update_api_key, services), methods=["POST"]),
        Route(f"{prefix}/delete/{{id}}", partial(delete_api_key, services), methods=["DELETE"]),
        Route(f"{prefix}/login", partial(login, services), methods=["GET"]),
    ]
