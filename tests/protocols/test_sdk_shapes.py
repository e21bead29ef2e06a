"""Everything our encoders write parses with the official SDKs' own models (openai, anthropic, google-genai)."""

from __future__ import annotations

import json
import typing
from collections.abc import Callable
from typing import Any

import pytest
from anthropic.types import Message, RawMessageStreamEvent
from google.genai import types as genai
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from octopus.errors import RateLimited
from octopus.protocols import WireFormat, get_codec
from octopus.protocols import canonical as c
from tests.protocols import golden
from tests.protocols.test_stream_shapes import parallel_calls

Validator = Callable[[Any], object]


def _by_type(union: Any) -> dict[str, Any]:
    """Event type literal → SDK model, so a failure names the one model that applies."""
    models: dict[str, Any] = {}
    for model in typing.get_args(typing.get_args(union)[0]):
        for literal in typing.get_args(model.model_fields["type"].annotation):
            models[literal] = model
    return models


_RESPONSES = _by_type(ResponseStreamEvent)


def _responses_event(body: dict[str, Any]) -> object:
    return _RESPONSES[body["type"]].model_validate(body)


STREAM: dict[WireFormat, Validator] = {
    WireFormat.OPENAI_CHAT: ChatCompletionChunk.model_validate,
    WireFormat.OPENAI_RESPONSES: _responses_event,
    WireFormat.ANTHROPIC: TypeAdapter(RawMessageStreamEvent).validate_python,
    WireFormat.GEMINI: genai.GenerateContentResponse.model_validate,
}
BODY: dict[WireFormat, Validator] = {
    WireFormat.OPENAI_CHAT: ChatCompletion.model_validate,
    WireFormat.OPENAI_RESPONSES: Response.model_validate,
    WireFormat.ANTHROPIC: Message.model_validate,
    WireFormat.GEMINI: genai.GenerateContentResponse.model_validate,
}


def _validate_stream(fmt: WireFormat, payloads: list[bytes]) -> None:
    for data in payloads:
        body = json.loads(data)
        if fmt in (WireFormat.OPENAI_CHAT, WireFormat.GEMINI) and "error" in body:
            continue  # in-band errors are not chunks; test_errors reads them back
        if fmt == WireFormat.ANTHROPIC and body["type"] == "error":
            # the SDK raises on this event instead of modelling it: check the documented shape
            assert set(body["error"]) == {"type", "message"}
            continue
        STREAM[fmt](body)


@pytest.mark.parametrize("fmt", list(WireFormat))
def test_parallel_calls_stream_parses_with_the_sdk(fmt):
    out = golden.encode_events_to(fmt, parallel_calls(), "client-model")
    _validate_stream(fmt, [e.data for e in out if e.data != b"[DONE]"])


def test_every_fixture_stream_in_every_format_parses_with_the_sdk(stream_file, target):
    source = golden.fmt_of(stream_file)
    for sse in golden.load_stream(stream_file):
        out = golden.encode_events_to(target, golden.decode_events(source, sse), "client-model")
        _validate_stream(target, [e.data for e in out if e.data != b"[DONE]"])


def test_every_fixture_body_in_every_format_parses_with_the_sdk(response_file, target):
    resp = get_codec(golden.fmt_of(response_file)).decode_response(response_file.read_bytes())
    BODY[target](json.loads(get_codec(target).encode_response(resp, [])))


@pytest.mark.parametrize("fmt", [WireFormat.OPENAI_RESPONSES, WireFormat.ANTHROPIC])
def test_stream_errors_parse_with_the_sdk(fmt):
    events = get_codec(fmt).encode_stream_error(RateLimited("slow down"))
    _validate_stream(fmt, [e.data for e in events])


def test_failed_response_body_parses_with_the_sdk():
    resp = c.CanonResponse(id="resp_1", error=c.ErrorInfo("boom", 502, "upstream"))
    Response.model_validate(
        json.loads(get_codec(WireFormat.OPENAI_RESPONSES).encode_response(resp, []))
    )
