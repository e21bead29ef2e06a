"""Tool and response JSON schemas made acceptable to each target's validator."""

from __future__ import annotations

from typing import Any

# Gemini's `parameters` is an OpenAPI 3.0 subset: anything else is rejected with a 400
_GEMINI_KEYS = frozenset(
    {
        "type",
        "format",
        "title",
        "description",
        "nullable",
        "enum",
        "maxItems",
        "minItems",
        "properties",
        "required",
        "minProperties",
        "maxProperties",
        "minLength",
        "maxLength",
        "pattern",
        "example",
        "anyOf",
        "propertyOrdering",
        "default",
        "items",
        "minimum",
        "maximum",
    }
)
_GEMINI_FORMATS = frozenset({"enum", "date-time", "int32", "int64", "float", "double"})
_MAX_DEPTH = 32


def for_openai(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAI takes JSON Schema as is; only the `$schema` marker is dropped."""
    return {k: v for k, v in schema.items() if k != "$schema"}


def for_anthropic(schema: dict[str, Any]) -> dict[str, Any]:
    """Anthropic insists on an object schema at the top."""
    if not schema:
        return {"type": "object", "properties": {}}
    if "type" not in schema:
        return {"type": "object", **schema}
    return schema


def for_gemini(schema: dict[str, Any]) -> dict[str, Any]:
    """Keep Gemini's subset: inline local $refs, map type lists and const, drop the rest."""
    defs = {**schema.get("definitions", {}), **schema.get("$defs", {})}
    return _gemini(schema, defs, 0)


def _gemini(node: dict[str, Any], defs: dict[str, Any], depth: int) -> dict[str, Any]:
    if depth > _MAX_DEPTH:  # a recursive $ref: stop unrolling
        return {"type": "object"}
    node = _resolve(node, defs, depth)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "const":
            out["enum"] = [value]
        elif key in _GEMINI_KEYS:
            out[key] = value
    _gemini_type(out)
    if "format" in out and out["format"] not in _GEMINI_FORMATS:
        del out["format"]
    if "enum" in out and not all(isinstance(v, str) for v in out["enum"]):
        del out["enum"]
    _gemini_children(out, defs, depth)
    return out


def _gemini_children(out: dict[str, Any], defs: dict[str, Any], depth: int) -> None:
    if isinstance(out.get("properties"), dict):
        props = out["properties"].items()
        out["properties"] = {
            k: _gemini(v, defs, depth + 1) for k, v in props if isinstance(v, dict)
        }
    if isinstance(out.get("items"), dict):
        out["items"] = _gemini(out["items"], defs, depth + 1)
    if isinstance(out.get("anyOf"), list):
        out["anyOf"] = [_gemini(v, defs, depth + 1) for v in out["anyOf"] if isinstance(v, dict)]


def _gemini_type(out: dict[str, Any]) -> None:
    kind = out.get("type")
    if isinstance(kind, list):
        rest = [t for t in kind if t != "null"]
        if len(rest) < len(kind):
            out["nullable"] = True
        if rest:
            out["type"] = rest[0]
        else:
            del out["type"]


def _resolve(node: dict[str, Any], defs: dict[str, Any], depth: int) -> dict[str, Any]:
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    target = defs.get(ref.rsplit("/", 1)[-1])
    if not isinstance(target, dict):
        return {k: v for k, v in node.items() if k != "$ref"}
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
