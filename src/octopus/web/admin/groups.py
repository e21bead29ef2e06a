"""/api/v1/group: groups (public model names), their members, modes and relay_config."""

from __future__ import annotations

import dataclasses
import re
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from octopus.records.group_mode import GroupMode
from octopus.services.container import Services
from octopus.store import groups as store
from octopus.store.backup_rows import LEGACY_MODES
from octopus.store.catalog_loader import relay_config
from octopus.store.groups import GroupChange, ItemChange, ItemSpec, StoredGroup
from octopus.web.admin.access import (
    MAX_ID,
    body_id,
    in_session,
    integer,
    match_regex,
    path_id,
    text,
)
from octopus.web.admin.envelope import AdminError, ok
from octopus.web.admin.json_body import json_object
from octopus.web.admin.relay_config import parse_relay_config

MODES = ", ".join(m.value for m in GroupMode)
DEFAULT_MODE = GroupMode.FAILOVER.value
MAX_PRIORITY = 1_000_000


def _bad(message: str) -> AdminError:
    return AdminError(400, message)


def group_view(stored: StoredGroup) -> dict[str, Any]:
    row = stored.row
    return {
        "id": row.id,
        "name": row.name,
        "mode": row.mode,
        "active_item_id": row.active_item_id,
        "relay_config": dataclasses.asdict(relay_config(row.relay_config)),
        "match_regex": row.match_regex or "",
        "items": [
            {
                "id": i.id,
                "group_id": i.group_id,
                "channel_id": i.channel_id,
                "model_name": i.model_name,
                "priority": i.priority,
                "weight": i.weight,
            }
            for i in stored.items
        ],
        "created_at": row.created_at,
    }


def _mode(body: dict[str, Any]) -> str:
    value = body["mode"]
    if isinstance(value, int) and not isinstance(value, bool) and value in LEGACY_MODES:
        value = LEGACY_MODES[value]  # Go v0.9's numbers, still sent by its clients
    if value not in {m.value for m in GroupMode}:
        raise _bad(f"mode must be one of {MODES}, got {value!r}")
    return str(value)


def _list(body: dict[str, Any], name: str) -> list[Any]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _bad(f"Invalid request parameters: '{name}' must be a list")
    return value


def _object(where: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _bad(f"{where} must be an object")
    return raw


def item_spec(where: str, raw: Any) -> ItemSpec:
    item = _object(where, raw)
    for name in ("channel_id", "model_name"):
        if item.get(name) is None:
            raise _bad(f"{where}: '{name}' is required")
    return ItemSpec(
        channel_id=integer(item, "channel_id", 1, MAX_ID),
        model_name=text(item, "model_name", required=True),
        priority=integer(item, "priority", -MAX_PRIORITY, MAX_PRIORITY)
        if "priority" in item
        else 0,
        weight=integer(item, "weight", 1, 10_000) if item.get("weight") is not None else 1,
    )


def _items(body: dict[str, Any], name: str) -> list[ItemSpec]:
    return [item_spec(f"{name}[{i}]", raw) for i, raw in enumerate(_list(body, name))]


def _change(where: str, raw: Any) -> ItemChange:
    item = _object(where, raw)
    if item.get("id") is None or item.get("priority") is None:
        raise _bad(f"{where}: 'id' and 'priority' are required")
    return ItemChange(
        id=integer(item, "id", 1, MAX_ID),
        priority=integer(item, "priority", -MAX_PRIORITY, MAX_PRIORITY),
        weight=integer(item, "weight", 1, 10_000) if item.get("weight") is not None else None,
    )


def group_values(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if body.get("name") is not None or not partial:
        if body.get("name") is None:
            raise _bad("Invalid request parameters: 'name' is required")
        values["name"] = text(body, "name", required=True)
    if body.get("mode") is not None:
        values["mode"] = _mode(body)
    elif not partial:
        values["mode"] = DEFAULT_MODE
    if "relay_config" in body or not partial:
        values["relay_config"] = parse_relay_config(body.get("relay_config"))
    if "match_regex" in body:
        values["match_regex"] = match_regex(body.get("match_regex"))
    return values


async def list_groups(services: Services, request: Request) -> Response:
    groups = await in_session(services, store.list_groups)
    return ok([group_view(g) for g in groups])


async def create_group(services: Services, request: Request) -> Response:
    body = await json_object(request)
    values, items = group_values(body, partial=False), _items(body, "items")
    stored = await in_session(services, lambda s: store.create_group(s, values, items), reload=True)
    return ok(group_view(stored))


async def update_group(services: Services, request: Request) -> Response:
    body = await json_object(request)
    group_id = body_id(body)
    change = GroupChange(
        values=group_values(body, partial=True),
        add=_items(body, "items_to_add"),
        change=[
            _change(f"items_to_update[{i}]", r)
            for i, r in enumerate(_list(body, "items_to_update"))
        ],
        remove=[_delete_id(i, r) for i, r in enumerate(_list(body, "items_to_delete"))],
        replace=_items(body, "items") if body.get("items") is not None else None,
    )
    stored = await in_session(
        services, lambda s: store.update_group(s, group_id, change), reload=True
    )
    return ok(group_view(stored))


def _delete_id(index: int, raw: Any) -> int:
    if isinstance(raw, dict):
        return body_id(raw)
    name = f"items_to_delete[{index}]"
    return body_id({name: raw}, name)


async def set_active(services: Services, request: Request) -> Response:
    group_id = path_id(request)
    body = await json_object(request)
    if body.get("item_id") is None:
        raise _bad("Invalid request parameters: 'item_id' is required")
    item_id = integer(body, "item_id", 0, MAX_ID)
    stored = await in_session(
        services, lambda s: store.set_active_item(s, group_id, item_id), reload=True
    )
    return ok(group_view(stored))


async def delete_group(services: Services, request: Request) -> Response:
    group_id = path_id(request)
    await in_session(services, lambda s: store.delete_group(s, group_id), reload=True)
    return ok("group deleted successfully")


async def _candidates(services: Services, name: str, regex: str | None) -> Response:
    """The models auto-add offers: `regex` (else the named group's match_regex), else by name."""
    if not name.strip() and not regex:
        raise _bad("Invalid request parameters: 'name' is required")

    async def action(session: Any) -> list[tuple[int, str, str]]:
        chosen = regex if regex is not None else await store.match_regex_of(session, name)
        pattern = match_regex(chosen) if chosen else None
        return await store.candidates(session, name, re.compile(pattern) if pattern else None)

    found = await in_session(services, action)
    return ok([{"channel_id": c, "channel_name": n, "model_name": m} for c, n, m in found])


async def auto_add(services: Services, request: Request) -> Response:
    body = await json_object(request)
    name = text(body, "name") if body.get("name") is not None else ""
    regex = body.get("match_regex")
    return await _candidates(services, name, regex if isinstance(regex, str) else None)


async def candidates(services: Services, request: Request) -> Response:
    params = request.query_params
    return await _candidates(services, params.get("name", ""), params.get("match_regex"))


def routes(services: Services) -> list[BaseRoute]:
    prefix = "/api/v1/group"
    return [
        Route(f"{prefix}/list", partial(list_groups, services), methods=["GET"]),
        Route(f"{prefix}/create", partial(create_group, services), methods=["POST"]),
        Route(f"{prefix}/update", partial(update_group, services), methods=["POST"]),
        Route(f"{prefix}/active/{{id}}", partial(set_active, services), methods=["POST"]),
        Route(f"{prefix}/delete/{{id}}", partial(delete_group, services), methods=["DELETE"]),
        Route(f"{prefix}/auto-add", partial(auto_add, services), methods=["POST"]),
        Route(f"{prefix}/candidates", partial(candidates, services), methods=["GET"]),
    ]
