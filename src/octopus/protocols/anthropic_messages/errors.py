"""Anthropic error bodies: our errors in Anthropic's dialect, and Anthropic's errors classified."""

from __future__ import annotations

from typing import Any

import msgspec

from octopus.errors import ErrorKind, GatewayError, UpstreamStatus
from octopus.protocols import failures, jsonio
from octopus.protocols.anthropic_messages import wire as w
from octopus.protocols.sse import SseEvent

_TYPES = {
    ErrorKind.INVALID_REQUEST: "invalid_request_error",
    ErrorKind.AUTHENTICATION: "authentication_error",
    ErrorKind.PERMISSION: "permission_error",
    ErrorKind.NOT_FOUND: "not_found_error",
    ErrorKind.TOO_LARGE: "request_too_large",
    ErrorKind.RATE_LIMIT: "rate_limit_error",
    ErrorKind.OVERLOADED: "overloaded_error",
    ErrorKind.TIMEOUT: "timeout_error",
    ErrorKind.UPSTREAM: "api_error",
    ErrorKind.INTERNAL: "api_error",
}
_KINDS = {name: kind for kind, name in _TYPES.items() if kind not in (ErrorKind.INTERNAL,)}
# the status an in-band error stands for, when no HTTP status came with it
_STATUSES = {
    ErrorKind.INVALID_REQUEST: 400,
    ErrorKind.RATE_LIMIT: 429,
    ErrorKind.OVERLOADED: 529,
    ErrorKind.TIMEOUT: 504,
}
_ENVELOPE = msgspec.json.Decoder(w.ErrorEnvelope)


def error_body(message: str, kind: str) -> dict[str, Any]:
    kind_enum = ErrorKind(kind) if kind in ErrorKind._value2member_map_ else ErrorKind.INTERNAL
    return {"type": "error", "error": {"type": _TYPES[kind_enum], "message": message}}


def _sse(body: dict[str, Any]) -> SseEvent:
    return SseEvent(data=jsonio.encode(body), event="error")


def error_event(message: str, kind: str) -> SseEvent:
    return _sse(error_body(message, kind))


def encode_error(err: GatewayError) -> tuple[int, bytes]:
    status = failures.client_status(err, anthropic=True)
    return status, jsonio.encode(error_body(err.message, err.kind.value))


def encode_stream_error(err: GatewayError) -> list[SseEvent]:
    return [error_event(err.message, err.kind.value)]


def decode_error(status: int, body: bytes, retry_after: float | None = None) -> UpstreamStatus:
    env = _parse(body)
    err = env.error if env is not None else None
    if err is None:
        return failures.upstream_status(status, None, None, retry_after, body)
    kind = _KINDS.get(err.type or "")
    return failures.upstream_status(status, err.message or err.type, kind, retry_after, body)


def in_band_error(err: w.ErrorBody) -> UpstreamStatus:
    kind = _KINDS.get(err.type or "", ErrorKind.UPSTREAM)
    status = _STATUSES.get(kind, 502)
    body = jsonio.encode({"type": "error", "error": {"type": err.type, "message": err.message}})
    return failures.upstream_status(status, err.message or err.type, kind, None, body)


def first_event_error(event: SseEvent) -> GatewayError | None:
    if event.event != "error" and event.data.find(b'"error"') < 0:
        return None
    env = _parse(event.data)
    if env is None or env.type != "error" or env.error is None:
        return None
    return in_band_error(env.error)


def _parse(body: bytes) -> w.ErrorEnvelope | None:
    try:
        return _ENVELOPE.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
