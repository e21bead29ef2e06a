"""/api/v1/setting list and set: validated, stored, and applied live through LiveSettings."""

from __future__ import annotations

from functools import partial

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from octopus.live_settings import SettingError, UnknownSetting, normalise
from octopus.services.container import Services
from octopus.store.settings_kv import put_setting
from octopus.web.admin.access import in_session
from octopus.web.admin.envelope import AdminError, ok
from octopus.web.admin.json_body import json_object


async def list_settings(services: Services, request: Request) -> Response:
    return ok([{"key": k, "value": v} for k, v in services.live_settings.items()])


async def set_setting(services: Services, request: Request) -> Response:
    body = await json_object(request)
    key, raw = body.get("key"), body.get("value")
    if not isinstance(key, str) or not key:
        raise AdminError(400, "Invalid request parameters: 'key' is required")
    if raw is None:
        raise AdminError(400, "Invalid request parameters: 'value' is required")
    settings = services.live_settings
    if not (isinstance(raw, str) and settings.is_masked_echo(key, raw)):
        try:
            value = normalise(key, raw)
        except UnknownSetting:
            raise AdminError(400, "setting not found") from None
        except SettingError as exc:
            raise AdminError(400, str(exc)) from None
        await in_session(services, lambda s: put_setting(s, key, value))
        settings.set(key, value)
        await services.config.changed()
    shown = dict(settings.items())[key]
    return ok({"key": key, "value": shown})


def routes(services: Services) -> list[BaseRoute]:
    return [
        Route("/api/v1/setting/list", partial(list_settings, services), methods=["GET"]),
        Route("/api/v1/setting/set", partial(set_setting, services), methods=["POST"]),
    ]
