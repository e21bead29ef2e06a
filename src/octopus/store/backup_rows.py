"""Checking a dump before anything is written: version, shape, and every row (pure, no I/O).

Accepts our own export (`octopus_format`) and the reference's version-0/2 `DBDump`. Each row is
normalised to the column values of our tables; the first bad row stops the import with a
message naming it, e.g. `channels[2].type: unknown channel type 'foo'`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from octopus.records.group_mode import GroupMode
from octopus.store.backup_generic import generic_columns, generic_type, models_text
from octopus.store.channels import normalise_models, split_models
from octopus.store.errors import StoreRefusal

SUPPORTED_VERSIONS = (0, 2)
CHANNEL_TYPES = {
    "openai": "openai",
    "openai_responses": "openai_responses",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "volcengine": "volcengine",  # Ark: OpenAI Chat Completions under /api/v3, kept as itself
}
LEGACY_MODES = {
    1: GroupMode.ROUND_ROBIN,
    2: GroupMode.RANDOM,
    3: GroupMode.FAILOVER,
    4: GroupMode.WEIGHTED,
}
NAME_MAX = 191
KEY_SHOWN = 15  # "sk-octopus-" and four characters: the admin API's masked display form


RelayConfigCheck = Callable[[dict[str, Any]], dict[str, Any]]


class DumpError(StoreRefusal):
    """The file cannot be imported; nothing was changed."""


@dataclass
class Dump:
    ours: bool
    channels: list[dict[str, Any]] = field(default_factory=list)
    channel_keys: list[dict[str, Any]] = field(default_factory=list)  # with "channel_id"
    groups: list[dict[str, Any]] = field(default_factory=list)
    group_items: list[dict[str, Any]] = field(default_factory=list)
    api_keys: list[dict[str, Any]] = field(default_factory=list)
    llm_infos: list[dict[str, Any]] = field(default_factory=list)  # "manual" None: decide later
    settings: dict[str, str] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)  # the raw stats sections


def load_document(raw: bytes) -> dict[str, Any]:
    """The dump object from file bytes; an `{code, message, data}` envelope is unwrapped."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DumpError(f"the file is not valid JSON: {exc}") from None
    if isinstance(doc, dict) and "version" not in doc and isinstance(doc.get("data"), dict):
        doc = doc["data"]
    if not isinstance(doc, dict):
        raise DumpError("the file is not an Octopus dump (expected a JSON object)")
    return doc


def _as_is(config: dict[str, Any]) -> dict[str, Any]:
    return config


def parse_dump(doc: dict[str, Any], relay_config: RelayConfigCheck = _as_is) -> Dump:
    """Every row checked and normalised; `relay_config` turns a group's stored or reference
    config into ours (ValueError names the problem)."""
    version = doc.get("version", 0)
    if version not in SUPPORTED_VERSIONS or isinstance(version, bool):
        raise DumpError(f"unsupported dump version: {version!r} (expected 0 or 2)")
    known = ("channels", "groups", "group_items", "api_keys", "llm_infos", "settings")
    if not any(name in doc for name in known):
        raise DumpError("the file is not an Octopus dump (no channels, groups or settings)")
    dump = Dump(ours="octopus_format" in doc)
    for index, raw in enumerate(_section(doc, "channels")):
        row = Row("channels", index, raw)
        dump.channels.append(_channel(row))
        dump.channel_keys += [{**key, "channel_id": row.id()} for key in _channel_keys(row)]
    groups = _section(doc, "groups")
    dump.groups = [_group(Row("groups", i, r), relay_config) for i, r in enumerate(groups)]
    items = _section(doc, "group_items")
    dump.group_items = [_item(Row("group_items", i, r)) for i, r in enumerate(items)]
    keys = _section(doc, "api_keys")
    dump.api_keys = [_api_key(Row("api_keys", i, r)) for i, r in enumerate(keys)]
    prices = _section(doc, "llm_infos")
    dump.llm_infos = [_price(Row("llm_infos", i, r)) for i, r in enumerate(prices)]
    _unique(dump.llm_infos, "name", "llm_infos")
    for name in ("channels", "groups", "group_items", "api_keys"):
        _unique(getattr(dump, name), "id", name)
    dump.settings = _settings(doc.get("settings"))
    dump.stats = {k: v for k, v in doc.items() if k.startswith("stats_") and v is not None}
    return dump


def _section(doc: dict[str, Any], name: str) -> list[Any]:
    value = doc.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise DumpError(f"{name}: expected a list")
    return value


def _unique(rows: list[dict[str, Any]], key: str, table: str) -> None:
    seen: set[Any] = set()
    for index, row in enumerate(rows):
        if row[key] in seen:
            raise DumpError(f"{table}[{index}].{key}: duplicate value {row[key]!r}")
        seen.add(row[key])


class Row:
    """Typed access to one dump row; every failure names table, index and field."""

    def __init__(self, table: str, index: int, raw: Any) -> None:
        self.where = f"{table}[{index}]"
        if not isinstance(raw, dict):
            raise DumpError(f"{self.where}: expected an object")
        self.raw: dict[str, Any] = raw

    def fail(self, name: str, problem: str) -> DumpError:
        return DumpError(f"{self.where}.{name}: {problem}")

    def id(self, name: str = "id") -> int:
        value = self.raw.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.fail(name, "must be a positive integer")
        return value

    def text(self, name: str, default: str = "", limit: int | None = None) -> str:
        value = self.raw.get(name)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.fail(name, "must be a string")
        if limit is not None and len(value) > limit:
            raise self.fail(name, f"is longer than {limit} characters")
        return value

    def name(self, name: str = "name") -> str:
        value = self.text(name, limit=NAME_MAX).strip()
        if not value:
            raise self.fail(name, "must be a non-empty string")
        return value

    def optional_text(self, name: str) -> str | None:
        return self.text(name) or None

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(name, "must be true or false")
        return value

    def integer(self, name: str, default: int = 0) -> int:
        value = self.raw.get(name)
        if value is None:
            return default
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, "must be an integer")
        return value

    def number(self, name: str) -> float:
        value = self.raw.get(name)
        if value is None:
            return 0.0
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(name, "must be a number")
        if not math.isfinite(value) or value < 0:
            raise self.fail(name, "must be a non-negative number")
        return float(value)


def _channel(row: Row) -> dict[str, Any]:
    kind = row.raw.get("type") or generic_type(row.raw)
    if not isinstance(kind, str) or kind not in CHANNEL_TYPES:
        raise row.fail("type", f"unknown channel type {kind!r}")
    model, custom = normalise_models(models_text(row.raw), row.text("custom_model"))
    return {
        "id": row.id(),
        "name": row.name(),
        "type": CHANNEL_TYPES[kind],
        "enabled": row.flag("enabled", True),
        "base_url": _base_url(row),
        "model": model,
        "custom_model": custom,
        "proxy": row.flag("proxy", False),
        "auto_sync": row.flag("auto_sync", False),
        "custom_header": _headers(row),
        "param_override": _override(row),
        "channel_proxy": row.optional_text("channel_proxy"),
        "match_regex": row.optional_text("match_regex"),
        "created_at": row.integer("created_at"),
        **generic_columns(row.raw),
    }


def _base_url(row: Row) -> str:
    urls = row.raw.get("base_urls")  # v0.9.x: [{url, delay}]
    if not row.raw.get("base_url") and isinstance(urls, list) and urls:
        first = urls[0]
        if isinstance(first, dict) and isinstance(first.get("url"), str):
            return str(first["url"])
    return row.text("base_url", limit=1024).strip()


def _headers(row: Row) -> list[dict[str, str]]:
    value = row.raw.get("custom_header")
    if value is None:
        return []
    if not isinstance(value, list):
        raise row.fail("custom_header", "must be a list of {header_key, header_value}")
    headers: list[dict[str, str]] = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("header_key"), str):
            raise row.fail("custom_header", "must be a list of {header_key, header_value}")
        headers.append(
            {"header_key": item["header_key"], "header_value": str(item.get("header_value") or "")}
        )
    return headers


def _override(row: Row) -> str | None:
    value = row.raw.get("param_override")
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    text = row.optional_text("param_override")
    if text is not None:
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise row.fail("param_override", "must be a JSON object") from None
        if not isinstance(parsed, dict):
            raise row.fail("param_override", "must be a JSON object")
    return text


def _channel_keys(row: Row) -> list[dict[str, Any]]:
    """Our `keys` list, the v0.9.x `keys` list ({channel_key, ...}), or the reference's `key`."""
    listed = row.raw.get("keys")
    if isinstance(listed, list) and listed:
        return [_listed_key(row, item) for item in listed]
    single = row.text("key").strip()
    return [{"key": single, "enabled": True, "remark": "", "disabled_reason": ""}] if single else []


def _listed_key(row: Row, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise row.fail("keys", "must be a list of objects")
    secret = item.get("key", item.get("channel_key"))
    if not isinstance(secret, str) or not secret.strip():
        raise row.fail("keys", "every key needs a non-empty 'key'")
    enabled = item.get("enabled", True)
    return {
        "key": secret.strip(),
        "enabled": enabled if isinstance(enabled, bool) else True,
        "remark": str(item.get("remark") or "")[:255],
        "disabled_reason": str(item.get("disabled_reason") or "")[:1024],
        "name": str(item.get("name") or "")[:191],  # v0.13: grants name their keys
    }


def _group(row: Row, relay_config: RelayConfigCheck) -> dict[str, Any]:
    mode = row.raw.get("mode")
    if mode is None or mode == "":
        mode = GroupMode.MANUAL
    if isinstance(mode, int) and not isinstance(mode, bool):
        mode = LEGACY_MODES.get(mode, mode)
    if mode not in {m.value for m in GroupMode}:
        raise row.fail("mode", f"unknown group mode {mode!r}")
    config = row.raw.get("relay_config")
    if config is not None and not isinstance(config, dict):
        raise row.fail("relay_config", "must be an object")
    try:
        checked = relay_config(config or {})
    except ValueError as exc:
        raise row.fail("relay_config", str(exc)) from None
    return {
        "id": row.id(),
        "name": row.name(),
        "mode": GroupMode(mode).value,
        "active_item_id": max(0, row.integer("active_item_id")),
        "relay_config": checked,
        "created_at": row.integer("created_at"),
        "match_regex": row.optional_text("match_regex"),
    }


def _item(row: Row) -> dict[str, Any]:
    return {
        "id": row.id(),
        "group_id": row.id("group_id"),
        "channel_id": row.id("channel_id"),
        "model_name": row.name("model_name"),
        "priority": row.integer("priority"),
        "weight": max(1, row.integer("weight", 1)),
    }


def _api_key(row: Row) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": row.id(),
        "name": row.name(),
        "enabled": row.flag("enabled", True),
        "expire_at": max(0, row.integer("expire_at")),
        "max_cost": row.number("max_cost"),
        "supported_models": ",".join(split_models(row.text("supported_models"))),
        "max_rpm": max(0, row.integer("max_rpm")),
        "max_tpm": max(0, row.integer("max_tpm")),
        "max_concurrency": max(0, row.integer("max_concurrency")),
        "created_at": row.integer("created_at"),
    }
    plain = row.text("api_key").strip()
    if plain:  # the reference stores keys in plaintext: keep only the hash
        values["key_hash"] = hashlib.sha256(plain.encode()).hexdigest()
        values["key_prefix"] = f"{plain[:KEY_SHOWN]}…{plain[-4:]}"
        return values
    digest = row.text("key_hash").strip().lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise row.fail("key_hash", "needs a sha256 hex digest (or a plaintext 'api_key')")
    values["key_hash"] = digest
    values["key_prefix"] = row.text("key_prefix", limit=32)
    return values


def _price(row: Row) -> dict[str, Any]:
    name = row.name().lower()
    manual = row.raw.get("manual")
    return {
        "name": name,
        "input": row.number("input"),
        "output": row.number("output"),
        "cache_read": row.number("cache_read"),
        "cache_write": row.number("cache_write"),
        "manual": manual if isinstance(manual, bool) else None,
        "updated_at": row.integer("updated_at"),
    }


def _settings(value: Any) -> dict[str, str]:
    """`[{key, value}]` (both dumps) or a plain object."""
    if value is None:
        return {}
    pairs: list[tuple[Any, Any]]
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = [(_pair(i, item)) for i, item in enumerate(value)]
    else:
        raise DumpError("settings: expected a list of {key, value}")
    result: dict[str, str] = {}
    for key, raw in pairs:
        if not isinstance(key, str) or not key:
            raise DumpError(f"settings: invalid key {key!r}")
        result[key] = raw if isinstance(raw, str) else orjson.dumps(raw).decode()
    return result


def _pair(index: int, item: Any) -> tuple[Any, Any]:
    if not isinstance(item, dict) or "key" not in item:
        raise DumpError(f"settings[{index}]: expected {{key, value}}")
    return item["key"], item.get("value", "")
