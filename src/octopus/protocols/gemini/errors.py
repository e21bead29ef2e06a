"""Gemini error bodies ({"error": {code, message, status}}): ours out, Google's classified."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from octopus.errors import ErrorKind, GatewayError, UpstreamStatus
from octopus.protocols import failures, jsonio
from octopus.protocols.gemini import wire as w
from octopus.protocols.sse import SseEvent

_STATUSES = {
    ErrorKind.INVALID_REQUEST: "INVALID_ARGUMENT",
    ErrorKind.AUTHENTICATION: "UNAUTHENTICATED",
    ErrorKind.PERMISSION: "PERMISSION_DENIED",
    ErrorKind.NOT_FOUND: "NOT_FOUND",
    ErrorKind.TOO_LARGE: "INVALID_ARGUMENT",
    ErrorKind.RATE_LIMIT: "RESOURCE_EXHAUSTED",
    ErrorKind.OVERLOADED: "UNAVAILABLE",
    ErrorKind.TIMEOUT: "DEADLINE_EXCEEDED",
    ErrorKind.UPSTREAM: "UNAVAILABLE",
    ErrorKind.INTERNAL: "INTERNAL",
}
_KINDS = {
    "INVALID_ARGUMENT": ErrorKind.INVALID_REQUEST,
    "FAILED_PRECONDITION": ErrorKind.INVALID_REQUEST,
    "UNAUTHENTICATED": ErrorKind.AUTHENTICATION,
    "PERMISSION_DENIED": ErrorKind.PERMISSION,
    "NOT_FOUND": ErrorKind.NOT_FOUND,
    "RESOURCE_EXHAUSTED": ErrorKind.RATE_LIMIT,
    "UNAVAILABLE": ErrorKind.OVERLOADED,
    "DEADLINE_EXCEEDED": ErrorKind.TIMEOUT,
    "INTERNAL": ErrorKind.UPSTREAM,
}
_DELAY = re.compile(r"^([0-9.]+)s$")
_ENVELOPE = msgspec.json.Decoder(w.ErrorEnvelope | list[w.ErrorEnvelope])


def error_body(message: str, kind: str, status: int) -> dict[str, Any]:
    kind_enum = ErrorKind(kind) if kind in ErrorKind._value2member_map_ else ErrorKind.INTERNAL
    return {"error": {"code": status, "message": message, "status": _STATUSES[kind_enum]}}


def encode_error(err: GatewayError) -> tuple[int, bytes]:
    status = failures.client_status(err)
    return status, jsonio.encode(error_body(err.message, err.kind.value, status))


def encode_stream_error(err: GatewayError) -> list[SseEvent]:
    body = error_body(err.message, err.kind.value, failures.client_status(err))
    return [SseEvent(data=jsonio.encode(body))]


def decode_error(status: int, body: bytes, retry_after: float | None = None) -> UpstreamStatus:
    err = _parse(body)
    if err is None:
        return failures.upstream_status(status, None, None, retry_after, body)
    kind = _KINDS.get(err.status or "")
    delay = retry_after if retry_after is not None else _retry_delay(err)
    return failures.upstream_status(status, err.message or err.status, kind, delay, body)


def in_band_error(err: w.ErrorBody) -> UpstreamStatus:
    kind = _KINDS.get(err.status or "", ErrorKind.UPSTREAM)
    status = err.code or 502
    body = jsonio.encode(
        {"error": {"code": err.code, "message": err.message, "status": err.status}}
    )
    return failures.upstream_status(
        status, err.message or err.status, kind, _retry_delay(err), body
    )


def first_event_error(event: SseEvent) -> GatewayError | None:
    if event.data.find(b'"error"') < 0:
        return None
    err = _parse(event.data)
    return in_band_error(err) if err is not None else None


def _retry_delay(err: w.ErrorBody) -> float | None:
    """google.rpc.RetryInfo's retryDelay ("34.4s") as seconds."""
    for detail in err.details or []:
        match = _DELAY.match(str(detail.get("retryDelay", "")))
        if match:
            return float(match.group(1))
    return None


def _parse(body: bytes) -> w.ErrorBody | None:
    try:
        env: w.ErrorEnvelope | list[w.ErrorEnvelope] = _ENVELOPE.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    if isinstance(env, list):  # Vertex streams wrap errors in a list
        env = env[0] if env else w.ErrorEnvelope()
    return env.error
