"""Bodies nested deeper than the decoder allows, or whose strings are not UTF-8, are caught in
one place (protocols/jsonio): a client's become BadRequest, an upstream's UpstreamProtocol (which
fails over), never a bare RecursionError or UnicodeDecodeError."""

from __future__ import annotations

import pytest

from octopus.errors import BadRequest, UpstreamProtocol
from octopus.protocols import WireFormat, get_codec
from octopus.protocols import embeddings as emb
from octopus.protocols.sse import SseEvent

DEEP = b"[" * 5000 + b"]" * 5000
NOT_UTF8 = b'"\xff\xfe"'
FORMATS = list(WireFormat)


def _request(fmt: WireFormat, value: bytes) -> bytes:
    if fmt is WireFormat.GEMINI:
        return b'{"contents": [{"role": "user", "parts": [{"text": ' + value + b"}]}]}"
    if fmt is WireFormat.OPENAI_RESPONSES:
        return b'{"model": "m", "input": ' + value + b"}"
    return b'{"model": "m", "messages": [{"role": "user", "content": ' + value + b"}]}"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("value", [DEEP, NOT_UTF8], ids=["deep", "not-utf8"])
def test_a_client_body_becomes_a_bad_request(fmt: WireFormat, value: bytes) -> None:
    with pytest.raises(BadRequest):
        get_codec(fmt).decode_request(_request(fmt, value), model="m")


def test_gemini_snake_case_renaming_of_a_deep_body_is_a_bad_request() -> None:
    # shallow enough for msgspec, deep enough for the Python that renames snake_case keys
    nested = b"[" * 900 + b"]" * 900
    body = b'{"contents": [{"parts": [{"text": "hi"}]}], "system_instruction": ' + nested + b"}"
    with pytest.raises(BadRequest):
        get_codec(WireFormat.GEMINI).decode_request(body, model="m")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("value", [DEEP, NOT_UTF8], ids=["deep", "not-utf8"])
def test_an_upstream_answer_becomes_an_upstream_protocol_error(
    fmt: WireFormat, value: bytes
) -> None:
    body = b'{"model": ' + value + b', "modelVersion": ' + value + b"}"
    with pytest.raises(UpstreamProtocol):
        get_codec(fmt).decode_response(body)


@pytest.mark.parametrize("value", [DEEP, NOT_UTF8], ids=["deep", "not-utf8"])
def test_embeddings_bodies_both_ways(value: bytes) -> None:
    with pytest.raises(BadRequest):
        emb.openai.decode_request(b'{"model": "m", "input": ' + value + b"}")
    with pytest.raises(BadRequest):
        emb.gemini.decode_request(b'{"content": ' + value + b"}", batch=False)
    answer = b'{"data": [], "model": ' + value + b"}"
    with pytest.raises(UpstreamProtocol):
        emb.openai.decode_response(answer)
    with pytest.raises(UpstreamProtocol):
        emb.gemini.decode_response(b'{"embedding": ' + value + b"}")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_usage_tap_ignores_an_unreadable_event(fmt: WireFormat) -> None:
    """The passthrough meter only watches: a hostile event it cannot read is skipped, not
    raised into the relayed stream."""
    field = b'"usageMetadata"' if fmt is WireFormat.GEMINI else b'"usage"'
    tap = get_codec(fmt).usage_tap()
    tap.feed(SseEvent(data=b'{"x": ' + DEEP + b", " + field + b": null}"))
    assert tap.usage is None
