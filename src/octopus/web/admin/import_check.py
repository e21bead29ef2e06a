"""An import passes the admin API's own checks: every channel, channel key, group, member and
API key is validated as if it were sent to its create route, so a file cannot store what the
API would refuse (a header that smuggles a line break, a file:// base URL, an unbounded limit)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from octopus.store.backup_rows import Dump, DumpError
from octopus.web.admin.apikeys import api_key_values
from octopus.web.admin.channel_generic import check_new
from octopus.web.admin.channel_input import channel_values, key_specs
from octopus.web.admin.envelope import AdminError
from octopus.web.admin.groups import group_values, item_spec

CHANNEL_FIELDS = (
    "name", "type", "base_url", "enabled", "proxy", "auto_sync", "model", "custom_model",
    "custom_header", "param_override", "channel_proxy", "match_regex", "dialect",
    "protocol_paths", "grants",
)  # fmt: skip
API_KEY_FIELDS = (
    "name", "enabled", "expire_at", "max_cost", "supported_models", "max_rpm", "max_tpm",
    "max_concurrency",
)  # fmt: skip


def check_dump(dump: Dump) -> None:
    """DumpError naming the first row the admin API would refuse."""
    key_names: dict[Any, set[str]] = {}
    for key in dump.channel_keys:
        key_names.setdefault(key["channel_id"], set()).add(key.get("name") or "")
    for i, row in enumerate(dump.channels):
        names = key_names.get(row["id"], set()) - {""}
        _as_api(f"channels[{i}]", partial(_channel, key_names=names), row)
    for i, row in enumerate(dump.channel_keys):
        _as_api(f"channel_keys[{i}]", _channel_key, row)
    for i, row in enumerate(dump.groups):
        _as_api(f"groups[{i}]", _group, row)
    for i, row in enumerate(dump.group_items):
        _as_api(f"group_items[{i}]", _member, row)
    for i, row in enumerate(dump.api_keys):
        _as_api(f"api_keys[{i}]", _api_key, row)


def _channel(row: dict[str, Any], key_names: set[str]) -> None:
    check_new(channel_values(_pick(row, CHANNEL_FIELDS), partial=False), key_names)


def _channel_key(row: dict[str, Any]) -> None:
    key = {"key": row["key"], "enabled": row["enabled"], "remark": row["remark"]}
    key_specs({"keys": [key]}, partial=False)


def _group(row: dict[str, Any]) -> None:
    group_values(_pick(row, ("name", "mode")), partial=False)


def _member(row: dict[str, Any]) -> None:
    item_spec("item", row)


def _api_key(row: dict[str, Any]) -> None:
    api_key_values(_pick(row, API_KEY_FIELDS), partial=False)


def _pick(row: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: row[name] for name in names if name in row}


def _as_api(where: str, check: Callable[[dict[str, Any]], None], row: dict[str, Any]) -> None:
    try:
        check(row)
    except AdminError as exc:
        raise DumpError(f"{where}: {exc.message}") from None
