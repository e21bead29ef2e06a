"""/api/v1/setting list and set: validated, stored, and applied live through LiveSettings."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from octopus.core.live_settings import LiveSettings, SettingError, UnknownSetting, normalise
from octopus.store.settings_kv import put_setting
from octopus.web.admin.access import catalog, in_session
from octopus.web.admin.envelope import AdminError, ok
from octopus.web.admin.json_body import json_object

# settings the routing catalog is built from: a change rebuilds it
ROUTING_KEYS = frozenset({"proxy_url"})


def live(request: Request) -> LiveSettings:
    settings: LiveSettings = request.app.state.live_settings
    return settings


async def list_settings(request: Request) -> Response:
    return ok([{"key": k, "value": v} for k, v in live(request).items()])


async def set_setting(request: Request) -> Response:
    body = await json_object(request)
    key, raw = body.get("key"), body.get("value")
    if not isinstance(key, str) or not key:
        raise AdminError(400, "Invalid request parameters: 'key' is required")
    if raw is None:
        raise AdminError(400, "Invalid request parameters: 'value' is required")
    settings = live(request)
    if not (isinstance(raw, str) and settings.is_masked_echo(key, raw)):
        try:
            value = normalise(key, raw)
        except UnknownSetting:
            raise AdminError(400, "setting not found") from None
        except SettingError as exc:
            raise AdminError(400, str(exc)) from None
        await in_session(request, lambda s: put_setting(s, key, value))
        settings.set(key, value)
        if key in ROUTING_KEYS:
            await catalog(request).reload()
    shown = dict(settings.items())[key]
    return ok({"key": key, "value": shown})


def routes() -> list[BaseRoute]:
    return [
        Route("/api/v1/setting/list", list_settings, methods=["GET"]),
        Route("/api/v1/setting/set", set_setting, methods=["POST"]),
    ]
