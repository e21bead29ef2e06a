"""OpenAI error bodies: our errors in OpenAI's dialect, and OpenAI's errors classified."""

from __future__ import annotations

from typing import Any

import msgspec

from octopus.errors import ErrorKind, GatewayError, UpstreamStatus
from octopus.protocols import failures, jsonio
from octopus.protocols.openai_chat import wire as w
from octopus.protocols.sse import SseEvent

_TYPES = {
    ErrorKind.INVALID_REQUEST: "invalid_request_error",
    ErrorKind.AUTHENTICATION: "authentication_error",
    ErrorKind.PERMISSION: "permission_error",
    ErrorKind.NOT_FOUND: "not_found_error",
    ErrorKind.TOO_LARGE: "invalid_request_error",
    ErrorKind.RATE_LIMIT: "rate_limit_error",
    ErrorKind.OVERLOADED: "server_error",
    ErrorKind.TIMEOUT: "timeout_error",
    ErrorKind.UPSTREAM: "upstream_error",
    ErrorKind.INTERNAL: "server_error",
}
_KINDS_BY_CODE = {
    "rate_limit_exceeded": ErrorKind.RATE_LIMIT,
    "insufficient_quota": ErrorKind.RATE_LIMIT,
    "server_is_overloaded": ErrorKind.OVERLOADED,
    "service_unavailable_error": ErrorKind.OVERLOADED,
    "context_length_exceeded": ErrorKind.INVALID_REQUEST,
    "invalid_prompt": ErrorKind.INVALID_REQUEST,
}
# our own codes (ErrorKind values) and types come back when a gateway sits upstream
_KINDS_BY_CODE.update({kind.value: kind for kind in ErrorKind})
_KINDS_BY_CODE.update(
    {"rate_limit_error": ErrorKind.RATE_LIMIT, "server_error": ErrorKind.UPSTREAM}
)
_ENVELOPE = msgspec.json.Decoder(w.ErrorEnvelope)


def kind_of(code: str | int | None, kind: str | None) -> ErrorKind | None:
    return _KINDS_BY_CODE.get(str(code)) or _KINDS_BY_CODE.get(kind or "")


_IN_BAND_STATUS = {
    ErrorKind.RATE_LIMIT: 429,
    ErrorKind.OVERLOADED: 503,
    ErrorKind.INVALID_REQUEST: 400,
    ErrorKind.TIMEOUT: 504,
}


def error_body(message: str, kind: str) -> dict[str, Any]:
    kind_enum = ErrorKind(kind) if kind in ErrorKind._value2member_map_ else ErrorKind.INTERNAL
    error = {"message": message, "type": _TYPES[kind_enum], "param": None, "code": kind_enum.value}
    return {"error": error}


def encode_error(err: GatewayError) -> tuple[int, bytes]:
    return failures.client_status(err), jsonio.encode(error_body(err.message, err.kind.value))


def encode_stream_error(err: GatewayError) -> list[SseEvent]:
    return [SseEvent(data=jsonio.encode(error_body(err.message, err.kind.value)))]


def decode_error(status: int, body: bytes, retry_after: float | None = None) -> UpstreamStatus:
    message, kind = _parse(body)
    return failures.upstream_status(status, message, kind, retry_after, body)


def first_event_error(event: SseEvent) -> GatewayError | None:
    if event.data.find(b'"error"') < 0:
        return None
    message, kind = _parse(event.data)
    if message is None:
        return None
    status = _IN_BAND_STATUS.get(kind or ErrorKind.UPSTREAM, 502)
    return failures.upstream_status(status, message, kind, None, event.data)


def _parse(body: bytes) -> tuple[str | None, ErrorKind | None]:
    try:
        env = _ENVELOPE.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None, None
    if isinstance(env.error, str):
        return env.error, None
    if env.error is None:
        return env.message, None
    err = env.error
    kind = kind_of(err.code, err.type)
    return err.message or err.type or "upstream error", kind
