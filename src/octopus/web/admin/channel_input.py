"""Channel bodies from the admin API: every field validated with a message that names it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import orjson

from octopus.live_settings import proxy_url_problem
from octopus.protocols.channel_types import CHANNEL_TYPES, FULL_URL_MARK
from octopus.store.channels import KeySpec
from octopus.upstream.providers import PROTECTED_HEADERS
from octopus.web.admin.access import MAX_ID, boolean, integer, match_regex, name_list, text
from octopus.web.admin.channel_generic import dialect, grants, protocol_paths
from octopus.web.admin.envelope import AdminError

TYPES = ", ".join(CHANNEL_TYPES)
MASK = "…"
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_NULLABLE = frozenset(
    {"param_override", "channel_proxy", "match_regex", "protocol_paths", "grants"}
)
_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "model": "",
    "custom_model": "",
    "proxy": False,
    "auto_sync": False,
    "custom_header": [],
    "param_override": None,
    "channel_proxy": None,
    "match_regex": None,
    "dialect": "",
    "protocol_paths": None,
    "grants": None,
}


def _bad(message: str) -> AdminError:
    return AdminError(400, message)


def _name(body: dict[str, Any]) -> str:
    return text(body, "name", required=True)


def _type(body: dict[str, Any]) -> str:
    value = body["type"]
    if value not in CHANNEL_TYPES:
        raise _bad(f"type must be one of {TYPES}, got {value!r}")
    return str(value)


def _base_url(body: dict[str, Any]) -> str:
    value = text(body, "base_url", 1024, required=True)
    parts = urlsplit(value.removesuffix(FULL_URL_MARK))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad("base_url must be an http:// or https:// URL with a host")
    return value


def _headers(body: dict[str, Any]) -> list[dict[str, str]]:
    value = body["custom_header"]
    if not isinstance(value, list):
        raise _bad("custom_header must be a list of {header_key, header_value}")
    headers: list[dict[str, str]] = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("header_key"), str):
            raise _bad("custom_header must be a list of {header_key, header_value}")
        key, val = item["header_key"].strip(), item.get("header_value", "")
        if not isinstance(val, str) or "\n" in val or "\r" in val:
            raise _bad(f"custom_header {key!r}: header_value must be a single-line string")
        if not _HEADER_NAME.match(key):
            raise _bad(f"custom_header: {key!r} is not a valid header name")
        if key.lower() in PROTECTED_HEADERS:
            raise _bad(f"custom_header: {key!r} cannot be overridden")
        headers.append({"header_key": key, "header_value": val})
    return headers


def _override(body: dict[str, Any]) -> str | None:
    value = body["param_override"]
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise _bad("param_override must be a JSON object") from None
    if not isinstance(value, dict):
        raise _bad("param_override must be a JSON object")
    refused = sorted({"model", "stream"} & set(value))
    if refused:
        raise _bad(f"param_override may not set {', '.join(refused)}")
    return orjson.dumps(value).decode() if value else None


def _channel_proxy(body: dict[str, Any]) -> str | None:
    value = text(body, "channel_proxy", 1024)
    problem = proxy_url_problem(value)
    if problem:
        raise _bad(f"channel_proxy {problem} (for example socks5://127.0.0.1:1080)")
    return value or None


def _models(name: str) -> Callable[[dict[str, Any]], str]:
    return lambda body: ",".join(name_list(body, name))


def _flag(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda body: boolean(body, name)


_PARSERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "name": _name,
    "type": _type,
    "base_url": _base_url,
    "enabled": _flag("enabled"),
    "proxy": _flag("proxy"),
    "auto_sync": _flag("auto_sync"),
    "model": _models("model"),
    "custom_model": _models("custom_model"),
    "custom_header": _headers,
    "param_override": _override,
    "channel_proxy": _channel_proxy,
    "match_regex": lambda body: match_regex(body["match_regex"]),
    "dialect": dialect,
    "protocol_paths": protocol_paths,
    "grants": grants,
}
REQUIRED = ("name", "type", "base_url")


def channel_values(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validated column values: every field given (update) or with defaults filled in (create)."""
    values: dict[str, Any] = {}
    for name, parse in _PARSERS.items():
        if body.get(name) is None:
            if name in _NULLABLE and name in body:
                values[name] = None
            elif not partial and name in REQUIRED:
                raise _bad(f"Invalid request parameters: '{name}' is required")
            elif not partial:
                values[name] = _DEFAULTS[name]
            continue
        values[name] = parse(body)
    return values


def key_specs(body: dict[str, Any], *, partial: bool) -> list[KeySpec] | None:
    """The channel's keys from `keys` (a list) or `key` (one or several, newline/comma separated).

    None on an update that sends neither, or only masked values (the list shown back unchanged).
    """
    if body.get("keys") is not None:
        return _key_list(body["keys"])
    if body.get("key") is None:
        return None if partial else []
    if not isinstance(body["key"], str):
        raise _bad("key must be a string (several keys: one per line)")
    secrets = [k.strip() for k in re.split(r"[\n,]", body["key"]) if k.strip()]
    if partial and secrets and all(MASK in k for k in secrets):
        return None
    if any(MASK in k for k in secrets):
        raise _bad("key: send the full key, not the masked form shown in lists")
    return [KeySpec(key=k) for k in dict.fromkeys(secrets)]


def _key_list(items: Any) -> list[KeySpec]:
    if not isinstance(items, list):
        raise _bad("keys must be a list of {key, enabled?, remark?}")
    specs: list[KeySpec] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        spec = _key_item(index, {"key": item} if isinstance(item, str) else item)
        if spec.key and spec.key in seen:
            raise _bad(f"keys[{index}]: the same key is listed twice")
        seen.add(spec.key or "")
        specs.append(spec)
    return specs


def _key_item(index: int, item: Any) -> KeySpec:
    where = f"keys[{index}]"
    if not isinstance(item, dict):
        raise _bad(f"{where} must be an object {{key, enabled?, remark?}}")
    key_id = integer(item, "id", 1, MAX_ID) if item.get("id") is not None else None
    secret = text(item, "key", 8192) if item.get("key") is not None else ""
    if MASK in secret:
        if key_id is None:
            raise _bad(f"{where}: a masked key needs the 'id' of the stored key")
        secret = ""
    if not secret and key_id is None:
        raise _bad(f"{where}: 'key' is required for a new key")
    if any(c.isspace() for c in secret):
        raise _bad(f"{where}: a key may not contain spaces or line breaks")
    return KeySpec(
        key=secret or None,
        id=key_id,
        enabled=boolean(item, "enabled") if item.get("enabled") is not None else None,
        remark=text(item, "remark", 255) if item.get("remark") is not None else None,
        name=text(item, "name") if item.get("name") is not None else None,
    )
