"""/api/v1/stats (reference field names; days and hours in the configured zone) and
/api/v1/apikey/stats."""

from __future__ import annotations

from functools import partial
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from octopus.core.zone import date_start, next_day
from octopus.relay.auth import hash_key
from octopus.services.container import Services
from octopus.store import stats
from octopus.web.admin.access import int_param
from octopus.web.admin.apikeys import api_key_view, presented_key
from octopus.web.admin.envelope import AdminError, ok

HOUR = 3600
MAX_HOURS = 24 * 400
MAX_DAYS = 366 * 100


def _now(services: Services) -> float:
    return float(services.clock.time())


def _range(request: Request) -> tuple[int | None, int | None]:
    """Optional `start_time`/`end_time` (unix seconds) narrowing a breakdown."""
    params = request.query_params
    end = int_param(params, "end_time", low=0)
    return int_param(params, "start_time", low=0), None if end is None else end + 1


async def today(services: Services, request: Request) -> Response:
    async with services.sessions() as session:
        return ok(await stats.today(session, _now(services), services.settings.zone))


async def daily(services: Services, request: Request) -> Response:
    """The Go shape: a list of days, oldest first (the heatmap's peak is the panel's to find)."""
    days = int_param(request.query_params, "days", high=MAX_DAYS)
    async with services.sessions() as session:
        found = await stats.daily(
            session, _now(services), days if days and days > 0 else None, services.settings.zone
        )
    return ok(found["items"])


async def hourly(services: Services, request: Request) -> Response:
    """Today's hours so far; `?date=YYYYMMDD` for another day; `?hours=N` for the last N hours."""
    now = int(_now(services))
    zone = services.settings.zone
    start, end = _hour_window(request, now, zone)
    async with services.sessions() as session:
        return ok(await stats.hourly(session, start, end, zone))


def _hour_window(request: Request, now: int, zone: ZoneInfo) -> tuple[int, int]:
    params = request.query_params
    current_end = now // HOUR * HOUR + HOUR
    hours = int_param(params, "hours")
    if hours is not None:
        hours = min(max(hours, 1), MAX_HOURS)
        return current_end - hours * HOUR, current_end
    date = params.get("date", "")
    if not date:
        return stats.day_start(now, zone), current_end
    try:  # the day after 9999-12-31 is past what dates can hold: refused like a bad date
        start = date_start(date, zone)
        after = next_day(start, zone)
    except (ValueError, OverflowError, OSError):
        raise AdminError(400, "Invalid request parameters: 'date' must be YYYYMMDD") from None
    return start, min(after, max(current_end, start + HOUR))


async def total(services: Services, request: Request) -> Response:
    async with services.sessions() as session:
        return ok(await stats.total(session))


async def apikey(services: Services, request: Request) -> Response:
    async with services.sessions() as session:
        return ok(await stats.by_api_key(session, *_range(request)))


async def channel(services: Services, request: Request) -> Response:
    async with services.sessions() as session:
        return ok(await stats.by_channel(session, *_range(request)))


async def model(services: Services, request: Request) -> Response:
    async with services.sessions() as session:
        return ok(await stats.by_model(session, *_range(request)))


async def member(services: Services, request: Request) -> Response:
    async with services.sessions() as session:
        return ok(await stats.by_member(session, *_range(request)))


async def key_stats(services: Services, request: Request) -> Response:
    """`{stats, info}` for the API key presented (Bearer or x-api-key), not an admin session."""
    key = presented_key(request)
    if not key:
        raise AdminError(401, "Authentication failed")
    async with services.sessions() as session:
        row = await stats.key_by_hash(session, hash_key(key))
        if row is None or not row.enabled or (0 < row.expire_at <= _now(services)):
            raise AdminError(401, "Authentication failed")
        info = api_key_view(row)
        info["supported_models"] = ", ".join(
            await stats.usable_groups(session, row.supported_models)
        )
        usage = await stats.key_stats(session, row.id)
    return ok({"stats": usage, "info": info})


def routes(services: Services) -> list[BaseRoute]:
    return [
        Route("/api/v1/stats/today", partial(today, services), methods=["GET"]),
        Route("/api/v1/stats/daily", partial(daily, services), methods=["GET"]),
        Route("/api/v1/stats/hourly", partial(hourly, services), methods=["GET"]),
        Route("/api/v1/stats/total", partial(total, services), methods=["GET"]),
        Route("/api/v1/stats/apikey", partial(apikey, services), methods=["GET"]),
        Route("/api/v1/stats/channel", partial(channel, services), methods=["GET"]),
        Route("/api/v1/stats/model", partial(model, services), methods=["GET"]),
        Route("/api/v1/stats/member", partial(member, services), methods=["GET"]),
        Route("/api/v1/apikey/stats", partial(key_stats, services), methods=["GET"]),
    ]
