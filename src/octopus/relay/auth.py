"""Client API keys: format, lookup by sha256 and the per-key refusals that need no counters."""

from __future__ import annotations

import hashlib
import re

from octopus.errors import Forbidden, Unauthorized
from octopus.routing.catalog import ApiKey, Catalog

KEY_PREFIX = "sk-octopus-"
KEY_PATTERN = re.compile(r"sk-octopus-[0-9A-Za-z]{48}")


def hash_key(raw: str) -> str:
    """The catalog's lookup key: sha256 hex of the full key."""
    return hashlib.sha256(raw.encode()).hexdigest()


def authenticate(catalog: Catalog, raw: str, now: float) -> ApiKey:
    """The ApiKey for a presented key, or Unauthorized / Forbidden. Never echoes the key."""
    if not raw:
        raise Unauthorized(
            "missing API key: send it as 'Authorization: Bearer <key>' or 'x-api-key'"
        )
    # no prefix check: an admin may have chosen the key's value (any 32+ characters)
    key = catalog.keys.get(hash_key(raw))
    if key is None:
        raise Unauthorized("invalid API key")
    if not key.enabled:
        raise Forbidden("API key is disabled")
    if key.expire_at and key.expire_at < now:
        raise Unauthorized("API key has expired")
    return key


def check_model(key: ApiKey, model: str) -> None:
    if key.supported_models and model not in key.supported_models:
        raise Forbidden(f"model '{model}' is not allowed for this API key")
