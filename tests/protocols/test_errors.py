"""Error mapping: our errors in each client's dialect, upstream errors classified, in-band errors."""

from __future__ import annotations

import json

import pytest

from octopus.errors import (
    BadRequest,
    ErrorKind,
    GatewayError,
    ModelNotFound,
    NoChannelAvailable,
    RateLimited,
    Unauthorized,
    UpstreamProtocol,
    UpstreamStatus,
    UpstreamTimeout,
)
from octopus.protocols import WireFormat, get_codec
from octopus.protocols.sse import SseEvent, SseParser
from tests.protocols import golden

A, G, OC, OR = (
    WireFormat.ANTHROPIC,
    WireFormat.GEMINI,
    WireFormat.OPENAI_CHAT,
    WireFormat.OPENAI_RESPONSES,
)
CASES = [
    (
        BadRequest("bad field"),
        400,
        "invalid_request_error",
        "invalid_request_error",
        "INVALID_ARGUMENT",
    ),
    (
        Unauthorized("no key"),
        401,
        "authentication_error",
        "authentication_error",
        "UNAUTHENTICATED",
    ),
    (ModelNotFound("no model"), 404, "not_found_error", "not_found_error", "NOT_FOUND"),
    (RateLimited("slow"), 429, "rate_limit_error", "rate_limit_error", "RESOURCE_EXHAUSTED"),
    (UpstreamTimeout("late"), 504, "timeout_error", "timeout_error", "DEADLINE_EXCEEDED"),
    (NoChannelAvailable("none"), 503, "server_error", "overloaded_error", "UNAVAILABLE"),
    (UpstreamStatus("boom", status=500), 500, "upstream_error", "api_error", "UNAVAILABLE"),
]


@pytest.mark.parametrize(("err", "status", "openai", "anthropic", "gemini"), CASES)
def test_encode_error_in_each_dialect(err, status, openai, anthropic, gemini):
    for fmt in (OC, OR):
        code, body = get_codec(fmt).encode_error(err)
        assert code == status
        assert json.loads(body)["error"]["type"] == openai
        assert json.loads(body)["error"]["message"] == err.message
    code, body = get_codec(A).encode_error(err)
    assert code == status
    assert json.loads(body) == {
        "type": "error",
        "error": {"type": anthropic, "message": err.message},
    }
    code, body = get_codec(G).encode_error(err)
    assert code == status
    assert json.loads(body) == {"error": {"code": status, "message": err.message, "status": gemini}}


def test_overloaded_529_is_anthropics_own():
    err = UpstreamStatus("Overloaded", status=529)
    assert get_codec(A).encode_error(err)[0] == 529
    for fmt in (OC, OR, G):
        assert get_codec(fmt).encode_error(err)[0] == 503


def test_unknown_kind_in_a_stream_error_falls_back_to_internal():
    for fmt in WireFormat:
        enc = get_codec(fmt).stream_encoder("m")
        from octopus.protocols import events as ev

        out = enc.feed(ev.StreamError("odd", 500, "no-such-kind"))
        assert out
        assert b"odd" in out[-1].data


def test_gemini_retry_delay_becomes_retry_after():
    path = golden.ROOT / "gemini/vercel-ai__google-429-retry-info.json"
    err = get_codec(G).decode_error(429, path.read_bytes())
    assert err.retry_after == 34.4
    assert err.kind == ErrorKind.RATE_LIMIT
    assert get_codec(G).decode_error(429, path.read_bytes(), retry_after=3.0).retry_after == 3.0


@pytest.mark.parametrize("fmt", list(WireFormat))
def test_unreadable_error_bodies_keep_the_status(fmt):
    err = get_codec(fmt).decode_error(502, b"<html>Bad gateway</html>", retry_after=1.5)
    assert err.status == 502
    assert err.retryable
    assert err.message == "upstream returned HTTP 502"
    assert err.retry_after == 1.5
    assert err.kind == ErrorKind.UPSTREAM


def test_other_openai_compatible_error_shapes():
    codec = get_codec(OC)
    assert codec.decode_error(400, b'{"error": "plain string"}').message == "plain string"
    assert codec.decode_error(400, b'{"message": "top level"}').message == "top level"
    err = codec.decode_error(400, b'{"error": {"type": "context_length_exceeded"}}')
    assert err.message == "context_length_exceeded"
    assert err.kind == ErrorKind.INVALID_REQUEST


def test_gemini_list_wrapped_error():
    body = b'[{"error": {"code": 503, "message": "busy", "status": "UNAVAILABLE"}}]'
    err = get_codec(G).decode_error(503, body)
    assert err.message == "busy"
    assert err.kind == ErrorKind.OVERLOADED
    assert get_codec(G).decode_error(500, b"[]").message == "upstream returned HTTP 500"


def test_secrets_are_redacted_from_upstream_messages():
    body = json.dumps(
        {"error": {"message": "Incorrect API key provided: sk-proj-abcdefghijklmnop1234"}}
    )
    err = get_codec(OC).decode_error(401, body.encode())
    assert "sk-proj" not in err.message
    assert "[redacted]" in err.message


def test_first_event_errors():
    assert get_codec(OC).first_event_error(SseEvent(b'{"choices": []}')) is None
    err = get_codec(OC).first_event_error(
        SseEvent(b'{"error": {"message": "quota", "code": "insufficient_quota"}}')
    )
    assert err is not None
    assert err.status == 429
    overloaded = golden.ROOT / "errors/anthropic-stream-error-event.sse.txt"
    parsed = SseParser().feed(overloaded.read_bytes())
    err = get_codec(A).first_event_error(parsed[0])
    assert err is not None
    assert err.status == 529
    assert err.retryable
    assert err.message == "Overloaded"
    assert get_codec(A).first_event_error(SseEvent(b'{"type": "ping"}', event="ping")) is None
    assert get_codec(A).first_event_error(SseEvent(b'{"type":"message_start","error":1}')) is None
    failed = golden.load_stream(
        golden.ROOT / "openai-responses/vercel-ai__openai-error.1.chunks.txt"
    )[0]
    assert get_codec(OR).first_event_error(failed[0]) is None
    err = get_codec(OR).first_event_error(failed[2])
    assert err is not None
    assert err.status == 429
    assert "quota" in err.message
    assert get_codec(OR).first_event_error(failed[3]) is not None
    assert get_codec(OR).first_event_error(SseEvent(b'{"error": {"message": "raw"}}')) is not None
    assert get_codec(G).first_event_error(SseEvent(b'{"candidates": []}')) is None
    gem = get_codec(G).first_event_error(
        SseEvent(b'{"error": {"code": 429, "message": "q", "status": "RESOURCE_EXHAUSTED"}}')
    )
    assert gem is not None
    assert gem.status == 429


def test_in_band_error_mid_stream_reaches_the_decoder():
    sse = [
        SseEvent(
            b'{"type":"message_start","message":{"id":"m","model":"x","usage":{"input_tokens":1}}}',
            "message_start",
        ),
        SseEvent(
            b'{"type":"error","error":{"type":"rate_limit_error","message":"later"}}', "error"
        ),
    ]
    events = golden.decode_events(A, sse)
    assert golden.last_error(events).message == "later"
    assert golden.last_error(events).status == 429
    chat = golden.decode_events(
        OC, [SseEvent(b'{"error": {"message": "gone", "type": "server_error"}}')]
    )
    assert golden.last_error(chat).message == "gone"
    gem = golden.decode_events(
        G, [SseEvent(b'{"error": {"code": 500, "message": "x", "status": "INTERNAL"}}')]
    )
    assert golden.last_error(gem).status == 500


@pytest.mark.parametrize("fmt", list(WireFormat))
def test_unreadable_upstream_response_is_upstream_protocol(fmt):
    with pytest.raises(UpstreamProtocol):
        get_codec(fmt).decode_response(b"<html>")
    assert get_codec(fmt).usage_from_response(b"<html>") is None


def test_stream_error_round_trip_keeps_kind():
    from octopus.protocols import events as ev

    event = ev.StreamError.from_error(RateLimited("slow", retry_after=2))
    assert event == ev.StreamError("slow", 429, "rate_limit")
    err = event.to_error()
    assert isinstance(err, GatewayError)
    assert err.status == 429
    assert err.kind == ErrorKind.RATE_LIMIT
