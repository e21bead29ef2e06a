"""A stand-in admin API with canned data, to check the panel renders without the real gateway."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route

from octopus.web.panel_routes import panel_routes

NOW = int(time.time())
METRICS = {
    "input_token": 1_250_000,
    "output_token": 310_000,
    "input_cost": 3.75,
    "output_cost": 4.65,
    "wait_time": 5_400_000,
    "request_success": 1520,
    "request_failed": 31,
}


def _day(offset: int) -> str:
    return time.strftime("%Y%m%d", time.localtime(NOW - offset * 86400))


DATA: dict[str, Any] = {
    "user/status": "ok",
    "user/info": {"username": "admin", "must_change_password": False},
    "stats/total": METRICS,
    "stats/today": METRICS,
    "stats/daily": [
        {"date": _day(i), **{k: v * ((i * 7) % 13) / 100 for k, v in METRICS.items()}}
        for i in range(0, 300, 2)
    ],
    "stats/hourly": [
        {
            "hour": h,
            "time": NOW // 3600 * 3600 - (23 - h) * 3600,
            **{k: v * (h % 5 + 1) / 200 for k, v in METRICS.items()},
        }
        for h in range(24)
    ],
    "stats/channel": [{"channel_id": 1, **METRICS}, {"channel_id": 2, "request_success": 40}],
    "stats/model": [{"id": 1, "name": "gpt-4o-mini", "channel_id": 1, **METRICS}],
    "stats/apikey": [{"api_key_id": 1, **METRICS}],
    "channel/list": [
        {
            "id": 1,
            "name": "OpenAI main",
            "type": "openai",
            "enabled": True,
            "base_url": "https://api.openai.com/v1",
            "model": "gpt-4o-mini,gpt-4o",
            "custom_model": "",
            "keys": [
                {"id": 1, "key": "sk-a…9f", "enabled": True, "disabled_reason": ""},
                {"id": 2, "key": "sk-b…11", "enabled": False, "disabled_reason": "401 invalid key"},
            ],
            "custom_header": [],
            "auto_sync": True,
            "stats": METRICS,
        },
        {
            "id": 2,
            "name": "Claude relay",
            "type": "anthropic",
            "enabled": False,
            "base_url": "https://relay.example/v1",
            "model": "claude-sonnet-4-5",
            "custom_model": "",
            "keys": [{"id": 3, "key": "sk-c…22", "enabled": True}],
            "custom_header": [],
            "stats": {},
        },
    ],
    "channel/last-sync-time": "2026-01-01T00:00:00Z",
    "group/list": [
        {
            "id": 1,
            "name": "gpt-4o-mini",
            "mode": "failover",
            "active_item_id": 0,
            "relay_config": {"first_token_timeout": 30},
            "items": [
                {"id": 1, "channel_id": 1, "model_name": "gpt-4o-mini", "priority": 1, "weight": 1},
                {"id": 2, "channel_id": 2, "model_name": "claude-sonnet-4-5", "priority": 2},
            ],
        }
    ],
    "model/list": [
        {
            "name": "gpt-4o-mini",
            "input": 0.15,
            "output": 0.6,
            "cache_read": 0.075,
            "cache_write": 0,
        },
        {"name": "claude-sonnet-4-5", "input": 0, "output": 0, "cache_read": 0, "cache_write": 0},
    ],
    "model/channel": [
        {"name": "gpt-4o-mini", "enabled": True, "channel_id": 1, "channel_name": "OpenAI main"},
        {"name": "gpt-4o", "enabled": True, "channel_id": 1, "channel_name": "OpenAI main"},
        {
            "name": "claude-sonnet-4-5",
            "enabled": True,
            "channel_id": 2,
            "channel_name": "Claude relay",
        },
    ],
    "model/last-update-time": "2026-01-01T00:00:00Z",
    "apikey/list": [
        {
            "id": 1,
            "name": "laptop",
            "api_key_prefix": "sk-octopus-ab",
            "enabled": True,
            "max_rpm": 60,
        }
    ],
    "apikey/login": None,
    "apikey/stats": {"stats": METRICS, "info": {"name": "laptop", "enabled": True, "max_cost": 20}},
    "setting/list": [
        {"key": "proxy_url", "value": ""},
        {"key": "cors_allow_origins", "value": ""},
        {"key": "log_retention_days", "value": "30"},
        {"key": "log_body_mode", "value": "errors"},
        {"key": "metrics_enabled", "value": "false"},
    ],
    "update/now-version": "0.1.0",
    "log/list": [],
    "log/page": {"items": [], "total": 0, "page": 1, "page_size": 20},
    "channel/fetch-model": ["gpt-4o", "gpt-4o-mini", "o3-mini", "text-embedding-3-small"],
}

LOG = {
    "id": 7,
    "status": "success",
    "started_at": "2026-01-01T10:00:00Z",
    "duration_ms": 1234,
    "model": "gpt-4o-mini",
    "target_channel": "OpenAI main",
    "target_model": "gpt-4o-mini",
    "usage": {"input_tokens": 12, "output_tokens": 30},
    "cost": 0.0001,
    "attempts": [{"channel_name": "OpenAI main", "status": "success", "duration_ms": 1200}],
}


def _envelope(data: Any) -> JSONResponse:
    return JSONResponse({"code": 200, "message": "success", "data": data})


async def _sse(
    event: str, payloads: list[dict[str, Any]], first: bytes = b""
) -> AsyncIterator[bytes]:
    if first:
        yield first
    for item in payloads:
        yield f"event: {event}\ndata: {json.dumps(item)}\n\n".encode()
    while True:
        await asyncio.sleep(15)
        yield b": ping\n\n"


async def api(request: Request) -> Response:
    path = request.path_params["path"]
    if path == "group/runtime/stream":
        state = {
            "group_id": 1,
            "current_item_id": 1,
            "cooldowns": {"2": time.time() * 1000 + 45000},
        }
        return StreamingResponse(_sse("runtime", [state]), media_type="text/event-stream")
    if path == "log/overview/stream":
        # a fleet where some process did not answer: the panel must say the list may be short
        scope = f"event: scope\ndata: {json.dumps({'scope': 'partial', 'shared': True})}\n\n"
        events = _sse("log", [LOG], first=scope.encode())
        return StreamingResponse(events, media_type="text/event-stream")
    if path.startswith("log/7"):
        return _envelope(LOG if path == "log/7" else '{"model": "gpt-4o-mini"}')
    if path in DATA:
        return _envelope(DATA[path])
    if request.method in ("POST", "DELETE"):
        return _envelope(None if request.method == "DELETE" else {})
    return JSONResponse({"code": 404, "message": "Resource not found"}, status_code=404)


def routes() -> list[BaseRoute]:
    return [Route("/api/v1/{path:path}", api, methods=["GET", "POST", "DELETE"]), *panel_routes()]


app = Starlette(routes=routes())
# the same behind a reverse proxy that serves it under a sub-path
mounted = Starlette(routes=[Mount("/octopus", routes=routes())])
