"""The Go v0.13 generic channel's own fields: `dialect`, the paths per protocol, `grants`."""

from __future__ import annotations

from typing import Any

from octopus.protocols import WireFormat
from octopus.protocols.channel_types import (
    ALL_BITS,
    GENERIC,
    PATH_FIELDS,
    PROTOCOL_BITS,
    generic_models_base,
)
from octopus.web.admin.envelope import AdminError

PROTOCOL_NAMES = frozenset(kind.value for kind in PATH_FIELDS)
BITS_TEXT = "chat 2, responses 4, messages 8, gemini 16"


def _bad(message: str) -> AdminError:
    return AdminError(400, message)


def dialect(body: dict[str, Any]) -> str:
    value = body["dialect"]
    if value not in ("", GENERIC):
        raise _bad(f'dialect must be "{GENERIC}" or empty, got {value!r}')
    return str(value)


def protocol_paths(body: dict[str, Any]) -> dict[str, str] | None:
    value = body["protocol_paths"]
    if not isinstance(value, dict):
        raise _bad("protocol_paths must map protocols to paths")
    paths: dict[str, str] = {}
    for kind, path in value.items():
        if kind not in PROTOCOL_NAMES:
            raise _bad(f"protocol_paths: unknown protocol {kind!r}")
        field_name = PATH_FIELDS[WireFormat(kind)]
        if path == "":
            paths[kind] = ""  # removed (merged with the stored paths by merge_paths)
            continue
        if not isinstance(path, str) or not path.startswith("/") or len(path) > 255:
            raise _bad(f"{field_name} must be a path starting with '/', got {path!r}")
        if any(c.isspace() for c in path):
            raise _bad(f"{field_name} may not contain spaces")
        paths[kind] = path
    return paths


def grants(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    value = body["grants"]
    if not isinstance(value, list):
        raise _bad("grants must be a list of {model_name, key_name, protocols}")
    return [_grant(f"grants[{i}]", item) for i, item in enumerate(value)] or None


def _grant(where: str, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise _bad(f"{where} must be an object {{model_name, key_name, protocols}}")
    mask = item.get("protocols")
    if not isinstance(mask, int) or isinstance(mask, bool) or mask <= 0 or mask & ~ALL_BITS:
        raise _bad(f"{where}.protocols must be a bitmask of {BITS_TEXT}")
    model, key = item.get("model_name"), item.get("key_name")
    if (
        not isinstance(model, str)
        or not model.strip()
        or not isinstance(key, str)
        or not key.strip()
    ):
        raise _bad(f"{where}: model_name and key_name are required")
    return {"model_name": model.strip(), "key_name": key.strip(), "protocols": mask}


def check_references(values: dict[str, Any], key_names: set[str]) -> None:
    """Every grant names one of the channel's models and keys and a protocol it has a path for."""
    models = set(filter(None, (values.get("model") or "").split(",")))
    models |= set(filter(None, (values.get("custom_model") or "").split(",")))
    paths = values.get("protocol_paths") or {}
    for index, grant in enumerate(values.get("grants") or []):
        where = f"grants[{index}]"
        if grant["model_name"] not in models:
            raise _bad(f"{where}: model {grant['model_name']!r} is not one of the channel's models")
        if grant["key_name"] not in key_names:
            raise _bad(f"{where}: no key is named {grant['key_name']!r}")
        wanted = [k for k in PATH_FIELDS if grant["protocols"] & PROTOCOL_BITS[k]]
        missing = [PATH_FIELDS[k] for k in wanted if k.value not in paths]
        if missing:
            raise _bad(f"{where}: the channel has no {', '.join(missing)}")


def generic_fields(row: Any, key_names: list[str]) -> dict[str, Any]:
    """The v0.13 fields of a channel's answer (empty paths and grants for a typed channel)."""
    paths = row.protocol_paths or {}
    fields: dict[str, Any] = {"dialect": row.dialect or ""}
    for kind, field_name in PATH_FIELDS.items():
        fields[field_name] = paths.get(kind.value, "")
    fields["models"] = [m for m in (row.model or "").split(",") if m]
    fields["grants"] = list(row.grants or [])
    fields["key_names"] = key_names
    return fields


def listing_target(values: dict[str, Any]) -> tuple[WireFormat, str] | None:
    """Where a generic channel lists its models: its first OpenAI protocol, else Anthropic's
    /v1/models, else Gemini's; None for a typed channel."""
    if values.get("dialect") != GENERIC:
        return None
    paths = values.get("protocol_paths") or {}
    for kind in PATH_FIELDS:
        if paths.get(kind.value):
            return kind, generic_models_base(values["base_url"], kind, paths[kind.value])
    raise _bad("a generic channel needs at least one protocol path")


def merge_paths(values: dict[str, Any], stored: dict[str, str] | None) -> None:
    """The paths sent over the stored ones; an empty path removes that protocol."""
    if "protocol_paths" in values:
        merged = {**(stored or {}), **(values["protocol_paths"] or {})}
        values["protocol_paths"] = {k: v for k, v in merged.items() if v} or None


def check_new(values: dict[str, Any], key_names: set[str]) -> None:
    """A new channel's generic fields hang together (create route and backup import alike)."""
    merge_paths(values, None)
    require_paths(values)
    check_references(values, key_names)


def require_paths(values: dict[str, Any]) -> None:
    if values.get("dialect") == GENERIC and not values.get("protocol_paths"):
        fields = ", ".join(PATH_FIELDS.values())
        raise _bad(f"a generic channel needs at least one of {fields}")
