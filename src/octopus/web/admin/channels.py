"""/api/v1/channel: channel CRUD with several keys (always masked), model fetch and sync."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from octopus.errors import GatewayError
from octopus.live_settings import mask_secret
from octopus.protocols.channel_types import channel_wire
from octopus.routing.keys import KeyHealth
from octopus.services.container import Services
from octopus.services.model_sync import SyncBusy
from octopus.store import channels as store
from octopus.store import stats
from octopus.store.catalog_loader import resolve_proxy
from octopus.store.channels import KeySpec, StoredChannel
from octopus.upstream.models import list_models
from octopus.web.admin.access import body_id, boolean, in_session, path_id
from octopus.web.admin.channel_compat import KEY_EDITS, from_go_shapes
from octopus.web.admin.channel_generic import (
    check_new,
    check_references,
    generic_fields,
    listing_target,
    merge_paths,
    require_paths,
)
from octopus.web.admin.channel_input import MASK, channel_values, key_specs
from octopus.web.admin.envelope import AdminError, ok
from octopus.web.admin.json_body import json_object


def channel_view(stored: StoredChannel, stats_row: dict[str, Any] | None = None) -> dict[str, Any]:
    row = stored.row
    view: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "type": row.type,
        "enabled": row.enabled,
        "base_url": row.base_url,
        # v0.11's single `key` (the first, masked); v0.9's `base_urls` and `channel_key` too
        "key": mask_secret(stored.keys[0].key) if stored.keys else "",
        "base_urls": [{"url": row.base_url, "delay": 0}],
        "keys": [
            {
                "id": k.id,
                "channel_id": row.id,
                "key": mask_secret(k.key),
                "channel_key": mask_secret(k.key),
                "enabled": k.enabled,
                "disabled_reason": k.disabled_reason,
                "remark": k.remark,
                "name": k.name,
            }
            for k in stored.keys
        ],
        "model": row.model,
        "custom_model": row.custom_model,
        "proxy": row.proxy,
        "auto_sync": row.auto_sync,
        "custom_header": row.custom_header or [],
        "param_override": row.param_override,
        "channel_proxy": row.channel_proxy,
        "match_regex": row.match_regex,
        "auto_group": 0,
        "created_at": row.created_at,
        **generic_fields(row, [k.name for k in stored.keys if k.name]),
    }
    counters = stats_row or stats.zero_counters()
    view["stats"] = {"channel_id": row.id, **counters}  # Go's StatsChannel carries its id
    return view


async def _views(session: Any, channels: list[StoredChannel]) -> list[dict[str, Any]]:
    by_id = await stats.channel_stats(session)
    return [channel_view(c, by_id.get(c.row.id)) for c in channels]


async def list_channels(services: Services, request: Request) -> Response:
    async def action(session: Any) -> list[dict[str, Any]]:
        return await _views(session, await store.list_channels(session))

    views = await in_session(services, action)
    for view in views:
        _add_rests(view, services.relay.routing.keys)
    return ok(views)


def _add_rests(view: dict[str, Any], keys: KeyHealth) -> None:
    """Keys the relay rests right now (403, 429, a 401 being checked) say why and how long."""
    for key in view["keys"]:
        resting = keys.resting(view["id"], key["id"])
        if resting is not None:
            key["resting_seconds"], key["resting_reason"] = round(resting[0]), resting[1]


def _clear_blocks(services: Services, channel_id: int) -> None:
    """The admin saved or enabled the channel: every in-memory block of its keys ends now."""
    services.relay.routing.keys.clear(channel_id)


async def create_channel(services: Services, request: Request) -> Response:
    body = from_go_shapes(await json_object(request))
    values = channel_values(body, partial=False)
    keys = key_specs(body, partial=False) or []
    check_new(values, {k.name for k in keys if k.name})

    async def action(session: Any) -> dict[str, Any]:
        return (await _views(session, [await store.create_channel(session, values, keys)]))[0]

    return ok(await in_session(services, action, reload=True))


async def update_channel(services: Services, request: Request) -> Response:
    body = await json_object(request)
    channel_id = body_id(body)
    body = from_go_shapes(body, await _stored_key_ids(services, body, channel_id))
    values = channel_values(body, partial=True)
    keys = key_specs(body, partial=True)

    async def action(session: Any) -> dict[str, Any]:
        _check_update(await store.get_channel(session, channel_id), values, keys)
        stored = await store.update_channel(session, channel_id, values, keys)
        return (await _views(session, [stored]))[0]

    view = await in_session(services, action, reload=True)
    _clear_blocks(services, channel_id)
    return ok(view)


def _check_update(
    stored: StoredChannel, values: dict[str, Any], keys: list[KeySpec] | None
) -> None:
    """A generic channel's grants still name its models, keys and protocols after the update."""
    row = stored.row
    merge_paths(values, row.protocol_paths)
    merged = {
        name: values.get(name, getattr(row, name))
        for name in ("dialect", "model", "custom_model", "protocol_paths", "grants")
    }
    require_paths(merged)
    names = {k.name for k in stored.keys if k.name}
    if keys is not None:
        by_id = {k.id: k.name for k in stored.keys}
        names = {k.name if k.name is not None else by_id.get(k.id or 0, "") for k in keys}
    check_references(merged, names - {""})


async def _stored_key_ids(services: Services, body: dict[str, Any], channel_id: int) -> list[int]:
    """The channel's key ids, needed only when the body edits keys the v0.9 way."""
    if not any(body.get(name) for name in KEY_EDITS):
        return []
    stored = await in_session(services, lambda s: store.get_channel(s, channel_id))
    return [k.id for k in stored.keys]


async def channel_stats(services: Services, request: Request) -> Response:
    """Go v0.13: every channel's statistics, `[{channel_id, …counters}]`."""

    async def action(session: Any) -> list[dict[str, Any]]:
        by_id = await stats.channel_stats(session)
        rows = await store.list_channels(session)
        zero = stats.zero_counters()
        return [{"channel_id": c.row.id, **(by_id.get(c.row.id) or zero)} for c in rows]

    return ok(await in_session(services, action))


async def channel_detail(services: Services, request: Request) -> Response:
    """Go v0.13: one channel in full (keys masked), with its statistics."""
    channel_id = path_id(request)

    async def action(session: Any) -> dict[str, Any]:
        return (await _views(session, [await store.get_channel(session, channel_id)]))[0]

    return ok(await in_session(services, action))


async def copy_channel(services: Services, request: Request) -> Response:
    """Ours (Go #111): the channel again under a free "(copy)" name, keys included."""
    channel_id = path_id(request)

    async def action(session: Any) -> dict[str, Any]:
        return (await _views(session, [await store.copy_channel(session, channel_id)]))[0]

    return ok(await in_session(services, action, reload=True))


async def enable_channel(services: Services, request: Request) -> Response:
    body = await json_object(request)
    channel_id, enabled = body_id(body), boolean(body, "enabled") if "enabled" in body else None
    if enabled is None:
        raise AdminError(400, "Invalid request parameters: 'enabled' is required")
    await in_session(
        services, lambda s: store.set_channel_enabled(s, channel_id, enabled), reload=True
    )
    _clear_blocks(services, channel_id)
    return ok()


async def delete_channel(services: Services, request: Request) -> Response:
    channel_id = path_id(request)
    await in_session(services, lambda s: store.delete_channel(s, channel_id), reload=True)
    return ok()


async def fetch_model(services: Services, request: Request) -> Response:
    """Ask the upstream for its models, from the body's settings or a saved channel's (`id`)."""
    body = from_go_shapes(_v013_fetch(await json_object(request)))
    saved = None
    if body.get("id") is not None:
        channel_id = body_id(body)
        saved = await in_session(services, lambda s: store.get_channel(s, channel_id))
    values = channel_values({**_saved_fields(saved), **_given(body), "name": "-"}, partial=False)
    key = _fetch_key(body, saved)
    live = services.live_settings
    try:
        kind, base_url = listing_target(values) or channel_wire(values["type"], values["base_url"])
        models = await list_models(
            services.transport,
            kind,
            base_url,
            key,
            headers=[(h["header_key"], h["header_value"]) for h in values["custom_header"]],
            proxy_url=resolve_proxy(values["proxy"], values["channel_proxy"], live.proxy_url),
            match_regex=values["match_regex"],
        )
    except GatewayError as exc:
        raise AdminError(exc.status, exc.message) from None
    return ok(models)


def _v013_fetch(body: dict[str, Any]) -> dict[str, Any]:
    """v0.13 asks with `{channel, key}`: the channel object, and a key value or a key's name."""
    channel = body.get("channel")
    if not isinstance(channel, dict):
        return body
    key, listed = body.get("key"), channel.get("keys")
    listed = listed if isinstance(listed, list) else []
    named = [k for k in listed if isinstance(k, dict) and k.get("name") == key]
    if named:
        key = named[0].get("key")
    return {**channel, "key": key, "keys": None}


def _given(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def _fetch_key(body: dict[str, Any], saved: StoredChannel | None) -> str:
    """The body's (first) key, else the saved channel's first enabled key."""
    raw = body.get("key")
    listed = body.get("keys")
    if raw is None and isinstance(listed, list) and listed and isinstance(listed[0], dict):
        raw = listed[0].get("key")  # v0.9 sends its keys as a list
    parts = [p.strip() for p in re.split(r"[\n,]", raw)] if isinstance(raw, str) else []
    key = next((p for p in parts if p), "")
    if (not key or MASK in key) and saved is not None:
        key = next((k.key for k in saved.keys if k.enabled and k.key), "")
    if not key or MASK in key:
        raise AdminError(400, "Invalid request parameters: 'key' is required")
    return key


def _saved_fields(saved: StoredChannel | None) -> dict[str, Any]:
    if saved is None:
        return {}
    row = saved.row
    return {
        "type": row.type,
        "base_url": row.base_url,
        "proxy": row.proxy,
        "channel_proxy": row.channel_proxy,
        "match_regex": row.match_regex,
        "custom_header": row.custom_header or [],
    }


async def sync_now(services: Services, request: Request) -> Response:
    try:
        errors = await services.model_sync.run()
    except SyncBusy as busy:
        raise AdminError(409, str(busy)) from None
    if errors:
        raise AdminError(502, "; ".join(errors))
    return ok()


async def last_sync_time(services: Services, request: Request) -> Response:
    return ok(services.model_sync.last_sync_rfc3339())


def routes(services: Services) -> list[BaseRoute]:
    prefix = "/api/v1/channel"
    return [
        Route(f"{prefix}/list", partial(list_channels, services), methods=["GET"]),
        Route(f"{prefix}/create", partial(create_channel, services), methods=["POST"]),
        Route(f"{prefix}/update", partial(update_channel, services), methods=["POST"]),
        Route(f"{prefix}/enable", partial(enable_channel, services), methods=["POST"]),
        Route(f"{prefix}/delete/{{id}}", partial(delete_channel, services), methods=["DELETE"]),
        Route(f"{prefix}/copy/{{id}}", partial(copy_channel, services), methods=["POST"]),
        Route(f"{prefix}/stats", partial(channel_stats, services), methods=["GET"]),
        Route(f"{prefix}/detail/{{id}}", partial(channel_detail, services), methods=["GET"]),
        Route(f"{prefix}/fetch-model", partial(fetch_model, services), methods=["POST"]),
        Route(f"{prefix}/sync", partial(sync_now, services), methods=["POST"]),
        Route(f"{prefix}/last-sync-time", partial(last_sync_time, services), methods=["GET"]),
    ]
