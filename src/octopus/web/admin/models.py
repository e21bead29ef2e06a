"""/api/v1/model: prices (hand-set rows win over models.dev), channel models, models.dev refresh."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from octopus.pricing.model_match import Rates
from octopus.services.container import Services
from octopus.services.prices import PriceService, RefreshFailed
from octopus.store import prices as store
from octopus.web.admin.envelope import AdminError, invalid, not_found, ok
from octopus.web.admin.json_body import field, json_object

ZERO_TIME = "0001-01-01T00:00:00Z"
PRICE_FIELDS = ("input", "output", "cache_read", "cache_write")


def _name(body: dict[str, Any]) -> str:
    name = store.normalize_name(field(body, "name", str))
    if not name:
        raise invalid("Invalid request parameters: 'name' must not be empty")
    if len(name) > store.NAME_MAX:
        raise invalid(f"Invalid request parameters: 'name' is longer than {store.NAME_MAX}")
    return name


def _usd(body: dict[str, Any], name: str) -> float:
    value = field(body, name, float, default=0.0)
    if not math.isfinite(value) or value < 0:
        raise invalid(f"Invalid request parameters: '{name}' must be a non-negative number")
    return value


def _manual_row(services: Services, body: dict[str, Any]) -> store.PriceRow:
    rates = Rates(*(_usd(body, name) for name in PRICE_FIELDS))
    now = int(services.clock.time())
    return store.PriceRow(_name(body), rates, manual=True, updated_at=now)


def _row_json(row: store.PriceRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "input": row.rates.input,
        "output": row.rates.output,
        "cache_read": row.rates.cache_read,
        "cache_write": row.rates.cache_write,
        "manual": row.manual,
        "updated_at": row.updated_at,
    }


def _effective_json(service: PriceService, name: str) -> dict[str, Any]:
    found = service.resolve(name)
    price = found.price if found is not None else None
    return {
        "name": name,
        "input": price.input if price else 0.0,
        "output": price.output if price else 0.0,
        "cache_read": price.cache_read if price else 0.0,
        "cache_write": price.cache_write if price else 0.0,
        "manual": found is not None and found.source == "manual" and found.exact,
        "source": found.source if found else "none",
        "matched": found.matched if found else "",
    }


async def list_prices(services: Services, request: Request) -> Response:
    """Every stored row and every channel model, each with its effective price and source."""
    async with services.sessions() as session:
        rows = await store.list_rows(session)
        models = await store.channel_models(session)
    names = dict.fromkeys([row.name for row in rows] + [m.name.lower() for m in models])
    service = services.prices
    return ok([_effective_json(service, name) for name in sorted(names)])


async def create_price(services: Services, request: Request) -> Response:
    row = _manual_row(services, await json_object(request))
    async with services.sessions() as session:
        created = await store.create_row(session, row)
    if not created:
        raise AdminError(409, "model already exists")
    await services.config.changed()
    return ok(_row_json(row))


async def update_price(services: Services, request: Request) -> Response:
    """Set a hand-made price; a model priced only by models.dev gets its own row here."""
    row = _manual_row(services, await json_object(request))
    async with services.sessions() as session:
        await store.put_row(session, row)
    await services.config.changed()
    return ok(_row_json(row))


async def delete_price(services: Services, request: Request) -> Response:
    """Drop a stored row: the model falls back to the models.dev price, if any."""
    name = _name(await json_object(request))
    async with services.sessions() as session:
        deleted = await store.delete_row(session, name)
    if not deleted:
        raise not_found()
    await services.config.changed()
    return ok()


async def channel_models(services: Services, request: Request) -> Response:
    async with services.sessions() as session:
        models = await store.channel_models(session)
    return ok(
        [
            {
                "name": m.name,
                "enabled": m.enabled,
                "channel_id": m.channel_id,
                "channel_name": m.channel_name,
            }
            for m in models
        ]
    )


async def unpriced(services: Services, request: Request) -> Response:
    """Channel models without any effective price, so the user can set one."""
    async with services.sessions() as session:
        models = await store.channel_models(session)
    service = services.prices
    missing: dict[str, dict[str, Any]] = {}
    for model in models:
        if service.price_for(model.name) is not None:
            continue
        entry = missing.setdefault(model.name.lower(), {"name": model.name.lower(), "channels": []})
        entry["channels"].append(
            {"channel_id": model.channel_id, "channel_name": model.channel_name}
        )
    return ok(list(missing.values()))


async def refresh_prices(services: Services, request: Request) -> Response:
    try:
        count = await services.prices.refresh()
    except RefreshFailed as exc:
        raise AdminError(502, f"could not update prices: {exc}") from None
    return ok({"count": count})


async def rebuild_prices(services: Services, request: Request) -> Response:
    """Go's rebuild-price: hand-set prices are lost; every row takes the models.dev price."""
    return ok({"count": await services.prices.rebuild_prices()})


async def last_update_time(services: Services, request: Request) -> Response:
    stamp = services.prices.last_update
    if stamp is None:
        return ok(ZERO_TIME)
    return ok(datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def routes(services: Services) -> list[BaseRoute]:
    base = "/api/v1/model"
    return [
        Route(f"{base}/list", partial(list_prices, services), methods=["GET"]),
        Route(f"{base}/create", partial(create_price, services), methods=["POST"]),
        Route(f"{base}/update", partial(update_price, services), methods=["POST"]),
        Route(f"{base}/delete", partial(delete_price, services), methods=["POST"]),
        Route(f"{base}/channel", partial(channel_models, services), methods=["GET"]),
        Route(f"{base}/unpriced", partial(unpriced, services), methods=["GET"]),
        Route(f"{base}/update-price", partial(refresh_prices, services), methods=["POST"]),
        Route(f"{base}/rebuild-price", partial(rebuild_prices, services), methods=["POST"]),
        Route(f"{base}/last-update-time", partial(last_update_time, services), methods=["GET"]),
    ]
