"""Go v0.13 channel fields in a backup: `dialect`, the path per protocol, `models`, `grants`
(ours exported as the columns `protocol_paths` and `grants`, read back the same way)."""

from __future__ import annotations

from typing import Any

from octopus.protocols.channel_types import ALL_BITS, GENERIC, PATH_FIELDS


def generic_columns(raw: dict[str, Any]) -> dict[str, Any]:
    """The generic columns of one dumped channel; {} for a typed channel."""
    if raw.get("dialect") != GENERIC:
        return {}
    paths = dict(raw.get("protocol_paths") or {})
    for kind, field_name in PATH_FIELDS.items():
        if isinstance(raw.get(field_name), str) and raw[field_name].startswith("/"):
            paths[kind.value] = raw[field_name]
    known = {kind.value for kind in PATH_FIELDS}
    paths = {k: v for k, v in paths.items() if k in known and isinstance(v, str) and v}
    return {"dialect": GENERIC, "protocol_paths": paths or None, "grants": _grants(raw)}


def _grants(raw: dict[str, Any]) -> list[dict[str, Any]] | None:
    kept = []
    for grant in raw.get("grants") or []:
        if not isinstance(grant, dict):
            continue
        mask = grant.get("protocols")
        model, key = grant.get("model_name"), grant.get("key_name")
        if isinstance(mask, int) and mask & ALL_BITS and isinstance(model, str) and key:
            kept.append({"model_name": model, "key_name": str(key), "protocols": mask & ALL_BITS})
    return kept or None


def generic_type(raw: dict[str, Any]) -> str | None:
    """A generic channel's `type` when the dump gives none: the first protocol it serves."""
    paths = generic_columns(raw).get("protocol_paths") or {}
    return next(iter(paths), None)


def models_text(raw: dict[str, Any]) -> str:
    """v0.13's `models` list when there is no `model` text."""
    models = raw.get("models")
    if not raw.get("model") and isinstance(models, list):
        return ",".join(m for m in models if isinstance(m, str))
    return str(raw.get("model") or "")
