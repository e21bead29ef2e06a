"""Channel bodies in the Go project's older shape (v0.9: numeric `type`, `base_urls`, `keys` of
`{channel_key}`, `keys_to_add/update/delete`), rewritten to the shape channel_input validates.

The Go project's own clients (the all-api-hub extension, the Android app) still send it.
"""

from __future__ import annotations

from typing import Any

from octopus.protocols.channel_types import GENERIC, PATH_FIELDS
from octopus.web.admin.envelope import AdminError

# v0.9's OutboundType numbers; 5 (OpenAI embeddings) is an OpenAI channel here
GO_TYPE_NUMBERS = {
    0: "openai",
    1: "openai_responses",
    2: "anthropic",
    3: "gemini",
    4: "volcengine",
    5: "openai",
}
KEY_EDITS = ("keys_to_add", "keys_to_update", "keys_to_delete")


def _bad(message: str) -> AdminError:
    return AdminError(400, f"Invalid request parameters: {message}")


def from_go_shapes(body: dict[str, Any], stored_key_ids: list[int] | None = None) -> dict[str, Any]:
    """A copy of `body` with every v0.9 field rewritten to ours (ours win when both are sent)."""
    out = dict(body)
    kind = out.get("type")
    if isinstance(kind, int) and not isinstance(kind, bool):
        if kind not in GO_TYPE_NUMBERS:
            raise _bad(f"'type' {kind} is not a known channel type number (0-5)")
        out["type"] = GO_TYPE_NUMBERS[kind]
    if out.get("base_url") is None and out.get("base_urls") is not None:
        out["base_url"] = _first_url(out["base_urls"])
    if isinstance(out.get("keys"), list):
        out["keys"] = [_key(item) for item in out["keys"]]
    if out.get("keys") is None and any(out.get(name) for name in KEY_EDITS):
        out["keys"] = _edited_keys(out, stored_key_ids or [])
    return _from_v013(out)


def _from_v013(out: dict[str, Any]) -> dict[str, Any]:
    """`models` → `model`; the path fields → `protocol_paths`; a generic channel's `type` is the
    first protocol it serves when none is given."""
    if out.get("model") is None and out.get("models") is not None:
        out["model"] = out["models"]
    given = {kind.value: out[field] for kind, field in PATH_FIELDS.items() if field in out}
    if given:
        if any(v is not None and not isinstance(v, str) for v in given.values()):
            raise _bad("the protocol path fields must be strings")
        out["protocol_paths"] = {k: v or "" for k, v in given.items()}  # "" removes a path
    if out.get("dialect") == GENERIC and out.get("type") is None:
        paths = out.get("protocol_paths") or {}
        if not isinstance(paths, dict):
            raise _bad("'protocol_paths' must map protocols to paths")
        if not any(paths.values()):
            raise _bad(f"a generic channel needs at least one of {', '.join(PATH_FIELDS.values())}")
        out["type"] = next(k for k, v in paths.items() if v)
    return out


def _first_url(value: Any) -> str:
    if not isinstance(value, list) or not value:
        raise _bad("'base_urls' must be a non-empty list of {url}")
    first = value[0]
    url = first.get("url") if isinstance(first, dict) else first
    if not isinstance(url, str):
        raise _bad("'base_urls' must be a non-empty list of {url}")
    return url


def _key(item: Any) -> Any:
    """`{channel_key, …}` → `{key, …}`; anything else is left for channel_input to judge."""
    if isinstance(item, dict) and "channel_key" in item and "key" not in item:
        renamed = {k: v for k, v in item.items() if k != "channel_key"}
        renamed["key"] = item["channel_key"]
        return renamed
    return item


def _edited_keys(body: dict[str, Any], stored: list[int]) -> list[Any]:
    """The full key list after v0.9's add/update/delete edits to the stored keys."""
    deleted = set(_ids(body.get("keys_to_delete")))
    updates = {}
    for item in _list(body, "keys_to_update"):
        if not isinstance(item, dict) or not isinstance(item.get("id"), int):
            raise _bad("'keys_to_update' entries need an integer 'id'")
        updates[item["id"]] = _key(item)
    keys: list[Any] = [updates.get(i, {"id": i}) for i in stored if i not in deleted]
    keys += [_key(item) for item in _list(body, "keys_to_add")]
    return keys


def _list(body: dict[str, Any], name: str) -> list[Any]:
    value = body.get(name) or []
    if not isinstance(value, list):
        raise _bad(f"'{name}' must be a list")
    return value


def _ids(value: Any) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
        raise _bad("'keys_to_delete' must be a list of key ids")
    return value
