"""Download the models.dev catalogue (`api.json`): the raw document, parsed elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from octopus.errors import UpstreamProtocol, UpstreamStatus
from octopus.upstream.transport import Transport, UpstreamRequest

MODELS_DEV_URL = "https://models.dev/api.json"
# models.dev serves browsers; the reference sends a desktop Chrome User-Agent too
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
MAX_BODY = 64 * 1024 * 1024


async def get_json(
    transport: Transport,
    url: str,
    headers: Sequence[tuple[str, str]],
    *,
    proxy_url: str | None = None,
    secrets: tuple[str, ...] = (),
    read_timeout: float = 60.0,
) -> Any:
    """GET a JSON document; raises UpstreamStatus (status >= 400), UpstreamProtocol (not JSON),
    UpstreamConnect / UpstreamTimeout."""
    request = UpstreamRequest(
        "GET",
        url,
        tuple(headers),
        proxy_url=proxy_url or None,
        connect_timeout=10.0,
        read_timeout=read_timeout,
        secrets=secrets,
    )
    resp = await transport.send(request)
    try:
        body = await resp.read(MAX_BODY)
    finally:
        await resp.aclose()
    if resp.status >= 400:
        raise UpstreamStatus(_status_text(resp.status, body), status=resp.status, body=body)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise UpstreamProtocol(f"{url} did not answer JSON") from None


def _status_text(status: int, body: bytes) -> str:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("message"), str):
        return f"HTTP {status}: {doc['message']}"
    return f"HTTP {status}"


async def fetch_models_dev(
    transport: Transport, url: str = MODELS_DEV_URL, proxy_url: str | None = None
) -> Any:
    """The models.dev document as parsed JSON (shape checked by the caller)."""
    headers = [("User-Agent", USER_AGENT), ("Accept", "application/json")]
    return await get_json(transport, url, headers, proxy_url=proxy_url)
