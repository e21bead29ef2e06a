"""/api/v1/setting/export and /import: the whole configuration (users excepted) as one file."""

from __future__ import annotations

import calendar
import logging
import time
from email import policy
from email.parser import BytesParser
from functools import partial
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from octopus.services.container import Services
from octopus.store import backup
from octopus.store.backup_rows import DumpError, load_document, parse_dump
from octopus.web.admin.envelope import AdminError, ok
from octopus.web.admin.guard import IMPORT_PATH
from octopus.web.admin.import_check import check_dump
from octopus.web.admin.json_body import MAX_DEPTH, unstorable
from octopus.web.admin.relay_config import ALIASES, LIMITS, parse_relay_config

log = logging.getLogger("octopus.backup")
_TRUE = ("1", "true", "yes", "on")


async def export_dump(services: Services, request: Request) -> Response:
    include = request.query_params.get("include_stats", "false").strip().lower() in _TRUE
    now = float(services.clock.time())
    async with services.sessions() as session:
        doc = await backup.export_dump(session, include_stats=include, now=now)
    name = time.strftime("octopus-export-%Y%m%d%H%M%S.json", time.gmtime(now))
    return Response(
        orjson.dumps(doc),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


async def import_dump(services: Services, request: Request) -> Response:
    raw = await _uploaded(request)
    try:
        doc = load_document(raw)
        problem = unstorable(doc, MAX_DEPTH)
        if problem is not None:
            raise DumpError(problem)
        dump = parse_dump(doc, _relay_config)
        check_dump(dump)
        report = await backup.run_import(
            services.sessions,
            dump,
            reference=services.prices.reference_rates,
            exported_at=_exported_at(doc, float(services.clock.time())),
        )
    except DumpError as exc:
        raise AdminError(400, f"import refused, nothing was changed: {exc.message}") from None
    await _apply(services, report)
    log.info("configuration imported", extra={"fields": report.rows_affected})
    return ok(
        {"rows_affected": report.rows_affected, "skipped": report.skipped, "notes": report.notes}
    )


async def _apply(services: Services, report: backup.ImportReport) -> None:
    """Make the running gateway use what was imported: settings, routing catalog, prices."""
    await services.config.changed()  # settings, catalog and prices, here and everywhere


def _relay_config(raw: dict[str, Any]) -> dict[str, Any]:
    """A stored or reference relay_config → ours; keys neither knows are dropped."""
    known = {k: v for k, v in raw.items() if k in LIMITS or k in ALIASES}
    try:
        return dict(parse_relay_config(known))
    except AdminError as exc:
        raise ValueError(exc.message) from None


def _exported_at(doc: dict[str, Any], now: float) -> float:
    text = doc.get("exported_at")
    if isinstance(text, str) and len(text) >= 19:
        try:
            return float(calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")))
        except ValueError:
            pass
    return now


async def _uploaded(request: Request) -> bytes:
    """The multipart field `file`, or the raw body (JSON); capped by `server.max_import_size`."""
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        if not body.strip():
            raise AdminError(400, "import refused: no file was sent")
        return body
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload
    raise AdminError(400, "import refused: the form has no 'file' field")


def routes(services: Services) -> list[BaseRoute]:
    return [
        Route("/api/v1/setting/export", partial(export_dump, services), methods=["GET"]),
        Route(IMPORT_PATH, partial(import_dump, services), methods=["POST"]),
    ]
