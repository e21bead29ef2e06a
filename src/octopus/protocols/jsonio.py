"""JSON in and out: bad client bodies raise BadRequest, bad upstream ones UpstreamProtocol."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from octopus.errors import BadRequest, UpstreamProtocol

encode = msgspec.json.encode

T = TypeVar("T")

_MAX_DETAIL = 300


def client_body(body: bytes, kind: type[T], what: str) -> T:
    """Decode a client's body; any defect becomes a BadRequest naming the field at fault."""
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"invalid {what}: {_short(exc)}") from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"{what} is not valid JSON: {_short(exc)}") from None


def client_value(value: Any, kind: type[T], what: str) -> T:
    """Convert an already parsed client body (see client_body) into `kind`."""
    try:
        return msgspec.convert(value, type=kind)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"invalid {what}: {_short(exc)}") from None


def upstream_body(body: bytes, kind: type[T], what: str) -> T:
    """Decode a provider's body; anything unreadable becomes UpstreamProtocol (retryable)."""
    try:
        return msgspec.json.decode(body, type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise UpstreamProtocol(f"unreadable {what} from upstream: {_short(exc)}") from None


def loads_or_none(data: bytes | str) -> Any:
    """Best-effort parse (error bodies, tool arguments); None when it is not JSON."""
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError:
        return None


def object_or_empty(arguments: str) -> dict[str, Any]:
    """Tool-call arguments as an object, as Anthropic and Gemini want them."""
    value = loads_or_none(arguments) if arguments.strip() else {}
    return value if isinstance(value, dict) else {}


def raw_extras(body: bytes, consumed: frozenset[str]) -> dict[str, msgspec.Raw]:
    """Top-level keys a decoder did not map (call after the body decoded as an object)."""
    top = msgspec.json.decode(body, type=dict[str, msgspec.Raw])
    return {k: v for k, v in top.items() if k not in consumed}


def merge_extras(out: dict[str, Any], extras: dict[str, msgspec.Raw]) -> None:
    for key, value in extras.items():
        out.setdefault(key, value)


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= _MAX_DETAIL else text[:_MAX_DETAIL] + "…"
