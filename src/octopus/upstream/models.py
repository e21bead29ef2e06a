"""Upstream model discovery (`fetch-model`): list a channel's models per provider type."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import orjson

from octopus.errors import BadRequest, UpstreamProtocol, UpstreamStatus
from octopus.protocols import WireFormat
from octopus.upstream.providers import (
    ANTHROPIC_VERSION,
    PROTECTED_HEADERS,
    auth_headers,
    models_url,
)
from octopus.upstream.transport import Transport, UpstreamRequest, scrub

MAX_PAGES = 50
MAX_BODY = 16 * 1024 * 1024


async def list_models(  # noqa: PLR0913 - the fetch-model form's fields, all keyword-able
    transport: Transport,
    kind: WireFormat,
    base_url: str,
    key: str,
    *,
    headers: Sequence[tuple[str, str]] = (),
    proxy_url: str | None = None,
    match_regex: str | None = None,
) -> list[str]:
    """Model ids the upstream offers, filtered by `match_regex` (searched anywhere in the id).

    Raises UpstreamStatus (the provider's status and message), UpstreamProtocol (unreadable
    answer), UpstreamConnect / UpstreamTimeout, or BadRequest for an invalid regex.
    """
    pattern = _compile(match_regex)
    fetch = _Fetcher(transport, base_url, key, headers, proxy_url)
    if kind is WireFormat.ANTHROPIC:
        ids = await _anthropic(fetch)
    elif kind is WireFormat.GEMINI:
        ids = await _gemini(fetch)
    else:
        ids = await _openai(fetch)
    unique = list(dict.fromkeys(i for i in ids if i))
    return [i for i in unique if pattern is None or pattern.search(i)]


def _compile(match_regex: str | None) -> re.Pattern[str] | None:
    if not match_regex:
        return None
    try:
        return re.compile(match_regex)
    except re.error as exc:
        raise BadRequest(f"invalid match_regex: {exc}") from None


class _Fetcher:
    def __init__(
        self,
        transport: Transport,
        base_url: str,
        key: str,
        headers: Sequence[tuple[str, str]],
        proxy_url: str | None,
    ) -> None:
        self.transport = transport
        self.url = models_url(base_url)
        self.key = key
        self.extra = [(k, v) for k, v in headers if k.lower() not in PROTECTED_HEADERS]
        self.proxy_url = proxy_url

    async def get(self, auth: list[tuple[str, str]], query: dict[str, str]) -> dict[str, Any]:
        url = f"{self.url}?{urlencode(query)}" if query else self.url
        headers = [*self.extra, *auth, ("Accept", "application/json")]
        request = UpstreamRequest(
            "GET", url, headers, proxy_url=self.proxy_url, read_timeout=60.0, secrets=(self.key,)
        )
        resp = await self.transport.send(request)
        try:
            body = await resp.read(MAX_BODY)
        finally:
            await resp.aclose()
        if resp.status >= 400:
            message = scrub(_error_message(body), (self.key,))
            raise UpstreamStatus(
                f"upstream responded {resp.status}: {message}", status=resp.status, body=body
            )
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise UpstreamProtocol("upstream model list is not JSON") from None
        if not isinstance(doc, dict):
            raise UpstreamProtocol("upstream model list is not a JSON object")
        return doc


def _error_message(body: bytes) -> str:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:300].decode("utf-8", "replace").strip() or "(empty body)"
    error = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    if isinstance(error, str):
        return error
    if isinstance(doc, dict) and isinstance(doc.get("message"), str):
        return str(doc["message"])
    return body[:300].decode("utf-8", "replace")


def _ids(doc: dict[str, Any], list_key: str, id_key: str) -> list[str]:
    items = doc.get(list_key)
    if not isinstance(items, list):
        return []
    return [str(i[id_key]) for i in items if isinstance(i, dict) and i.get(id_key)]


async def _openai(fetch: _Fetcher) -> list[str]:
    doc = await fetch.get(auth_headers(WireFormat.OPENAI_CHAT, fetch.key), {})
    return _ids(doc, "data", "id")


async def _anthropic(fetch: _Fetcher) -> list[str]:
    auth = [
        *auth_headers(WireFormat.ANTHROPIC, fetch.key),
        ("anthropic-version", ANTHROPIC_VERSION),
    ]
    ids: list[str] = []
    query = {"limit": "1000"}
    for _ in range(MAX_PAGES):
        doc = await fetch.get(auth, query)
        ids += _ids(doc, "data", "id")
        last = doc.get("last_id")
        if not doc.get("has_more") or not isinstance(last, str) or not last:
            break
        query = {"limit": "1000", "after_id": last}
    return ids or await _openai(fetch)


async def _gemini(fetch: _Fetcher) -> list[str]:
    auth = auth_headers(WireFormat.GEMINI, fetch.key)
    ids: list[str] = []
    query = {"pageSize": "1000"}
    for _ in range(MAX_PAGES):
        doc = await fetch.get(auth, query)
        ids += [n.removeprefix("models/") for n in _ids(doc, "models", "name")]
        token = doc.get("nextPageToken")
        if not isinstance(token, str) or not token:
            break
        query = {"pageSize": "1000", "pageToken": token}
    return ids or await _openai(fetch)
