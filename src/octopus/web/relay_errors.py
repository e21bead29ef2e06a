"""Refusals in the client's own error format, via its codec.

Stopgap: while a wire format has no codec yet, a minimal body in that provider's error shape is
used so that the SDKs still raise the right exception class. Remove `_fallback` once every
WireFormat is in octopus.protocols.CODECS.
"""

from __future__ import annotations

import orjson

from octopus.errors import ErrorKind, GatewayError
from octopus.protocols import CODECS, WireFormat

_ANTHROPIC_TYPES = {
    ErrorKind.INVALID_REQUEST: "invalid_request_error",
    ErrorKind.AUTHENTICATION: "authentication_error",
    ErrorKind.PERMISSION: "permission_error",
    ErrorKind.NOT_FOUND: "not_found_error",
    ErrorKind.TOO_LARGE: "request_too_large",
    ErrorKind.RATE_LIMIT: "rate_limit_error",
    ErrorKind.OVERLOADED: "overloaded_error",
}
_GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    413: "INVALID_ARGUMENT",
    415: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def render_error(fmt: WireFormat, err: GatewayError) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers (content type, Retry-After) and body of a refusal."""
    codec = CODECS.get(fmt)
    status, body = codec.encode_error(err) if codec is not None else _fallback(fmt, err)
    headers = [("content-type", "application/json"), ("content-length", str(len(body)))]
    if err.retry_after:
        headers.append(("retry-after", str(max(1, round(err.retry_after)))))
    return status, headers, body


def _fallback(fmt: WireFormat, err: GatewayError) -> tuple[int, bytes]:
    if fmt is WireFormat.ANTHROPIC:
        kind = _ANTHROPIC_TYPES.get(err.kind, "api_error")
        doc: dict[str, object] = {"type": "error", "error": {"type": kind, "message": err.message}}
    elif fmt is WireFormat.GEMINI:
        status = _GOOGLE_STATUS.get(err.status, "INTERNAL")
        doc = {"error": {"code": err.status, "message": err.message, "status": status}}
    else:
        doc = {
            "error": {"message": err.message, "type": err.kind.value, "param": None, "code": None}
        }
    return err.status, orjson.dumps(doc)
