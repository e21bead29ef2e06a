"""Model listings (`/v1/models`, `/v1beta/models`) and the Anthropic token-count estimate."""

from __future__ import annotations

from urllib.parse import unquote

import orjson

from octopus.errors import ModelNotFound
from octopus.protocols import WireFormat
from octopus.routing.catalog import ApiKey, Catalog

CREATED = 1_763_395_200  # a fixed timestamp: groups have no creation date the clients care about
CREATED_AT = "2024-01-01T00:00:00Z"
GEMINI_METHODS = ["generateContent", "streamGenerateContent", "countTokens"]


def visible_models(catalog: Catalog, key: ApiKey) -> list[str]:
    names = sorted(catalog.groups)
    if key.supported_models:
        names = [n for n in names if n in key.supported_models]
    return names


def listing_format(path: str, headers: dict[str, str], query: str) -> WireFormat:
    if path.startswith("/v1beta/") or "x-goog-api-key" in headers or "key=" in query:
        return WireFormat.GEMINI
    if "anthropic-version" in headers or "x-api-key" in headers:
        return WireFormat.ANTHROPIC
    return WireFormat.OPENAI_CHAT


def _openai(name: str) -> dict[str, object]:
    return {"id": name, "object": "model", "created": CREATED, "owned_by": "octopus"}


def _anthropic(name: str) -> dict[str, object]:
    return {"type": "model", "id": name, "display_name": name, "created_at": CREATED_AT}


def _gemini(name: str) -> dict[str, object]:
    return {
        "name": f"models/{name}",
        "baseModelId": name,
        "version": "octopus",
        "displayName": name,
        "description": f"Octopus group {name}",
        "supportedGenerationMethods": GEMINI_METHODS,
    }


def list_body(fmt: WireFormat, names: list[str]) -> bytes:
    if fmt is WireFormat.GEMINI:
        return orjson.dumps({"models": [_gemini(n) for n in names]})
    if fmt is WireFormat.ANTHROPIC:
        return orjson.dumps(
            {
                "data": [_anthropic(n) for n in names],
                "has_more": False,
                "first_id": names[0] if names else None,
                "last_id": names[-1] if names else None,
            }
        )
    return orjson.dumps({"object": "list", "data": [_openai(n) for n in names]})


def one_body(fmt: WireFormat, raw_id: str, names: list[str]) -> bytes:
    """One model; ModelNotFound when the key cannot see it."""
    name = unquote(raw_id).removeprefix("models/")
    if name not in names:
        raise ModelNotFound(f"model '{name}' does not exist")
    if fmt is WireFormat.GEMINI:
        return orjson.dumps(_gemini(name))
    if fmt is WireFormat.ANTHROPIC:
        return orjson.dumps(_anthropic(name))
    return orjson.dumps(_openai(name))


def count_tokens_body(body: bytes) -> bytes:
    """An estimate (about four bytes of JSON per token) in Anthropic's count_tokens shape."""
    return orjson.dumps({"input_tokens": max(1, len(body) // 4)})
