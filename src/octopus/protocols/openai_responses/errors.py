"""Responses errors: OpenAI's error body over HTTP, `error` + `response.failed` in a stream."""

from __future__ import annotations

import msgspec

from octopus.errors import ErrorKind, GatewayError, UpstreamStatus
from octopus.protocols import failures, jsonio
from octopus.protocols.openai_chat import errors as chat_errors
from octopus.protocols.openai_responses import wire as w
from octopus.protocols.openai_responses.response import error_code, response_object
from octopus.protocols.sse import SseEvent

_EVENT = msgspec.json.Decoder(w.StreamEvent)
_STATUS = {ErrorKind.RATE_LIMIT: 429, ErrorKind.OVERLOADED: 503, ErrorKind.INVALID_REQUEST: 400}

encode_error = chat_errors.encode_error
decode_error = chat_errors.decode_error


def failure_events(message: str, kind: str, resp_id: str, model: str, seq: int) -> list[SseEvent]:
    """`error` then `response.failed`, as OpenAI itself ends a failed stream."""
    code = error_code(kind)
    error = {"type": "error", "sequence_number": seq, "code": code, "message": message}
    error["param"] = None
    obj = response_object(resp_id, model, 0, "failed", [])
    obj["error"] = {"code": code, "message": message}
    failed = {"type": "response.failed", "sequence_number": seq + 1, "response": obj}
    return [
        SseEvent(data=jsonio.encode(error), event="error"),
        SseEvent(data=jsonio.encode(failed), event="response.failed"),
    ]


def encode_stream_error(err: GatewayError) -> list[SseEvent]:
    return failure_events(err.message, err.kind.value, "resp_octopus", "", 0)


def in_band_error(data: w.StreamEvent) -> UpstreamStatus:
    err = data.error or (data.response.error if data.response is not None else None)
    message = (err.message if err else None) or data.message or "upstream stream failed"
    code = (err.code if err else None) or data.code or ""
    kind = chat_errors.kind_of(code, err.type if err else None) or ErrorKind.UPSTREAM
    body = jsonio.encode({"error": {"message": message, "code": code}})
    return failures.upstream_status(_STATUS.get(kind, 502), message, kind, None, body)


def first_event_error(event: SseEvent) -> GatewayError | None:
    if event.data.find(b'"error"') < 0 and event.data.find(b"response.failed") < 0:
        return None
    try:
        data = _EVENT.decode(event.data)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return chat_errors.first_event_error(event)
    if data.type in ("error", "response.failed"):
        return in_band_error(data)
    return None
