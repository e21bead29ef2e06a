"""The text slot: stream encoders fill a pre-encoded envelope with each event's text, and the
bytes must be exactly those of encoding the whole envelope."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from octopus.protocols import WireFormat, get_codec
from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from octopus.protocols.jsonio import Slot

TEXTS = ["", "plain", 'quote " and \\ backslash', "line\nbreak\ttab\x00\x1f", "é 漢字 🐙", "\u2028"]


def _envelope(text: str) -> dict[str, Any]:
    return {"id": "x", "choices": [{"delta": {"content": text}, "finish_reason": None}]}


@pytest.mark.parametrize("text", TEXTS)
def test_a_filled_slot_is_the_whole_envelope_encoded(text: str) -> None:
    slot = Slot.around(_envelope)
    assert slot is not None
    assert slot.fill(text) == msgspec.json.encode(_envelope(text))


def test_an_envelope_that_holds_the_marker_elsewhere_has_no_slot() -> None:
    def hostile(text: str) -> dict[str, str]:
        return {"id": "\x00octopus-slot\x00", "text": text}  # an upstream id could say anything

    assert Slot.around(hostile) is None


def _decoded(data: bytes) -> Any:
    return msgspec.json.decode(data)


@pytest.mark.parametrize("text", TEXTS)
def test_chat_text_chunks_carry_the_text_in_the_usual_envelope(text: str) -> None:
    enc = get_codec(WireFormat.OPENAI_CHAT).stream_encoder("m")
    enc.feed(ev.MessageStart(id="chatcmpl-7", created=123))
    enc.feed(ev.BlockStart(0, _text_block()))
    (first,) = enc.feed(ev.TextDelta(0, text))
    (second,) = enc.feed(ev.TextDelta(0, text + "!"))
    for sse, want in ((first, text), (second, text + "!")):
        body = _decoded(sse.data)
        assert body == {
            "id": "chatcmpl-7",
            "object": "chat.completion.chunk",
            "created": 123,
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": want}, "finish_reason": None}],
        }
        assert sse.data == msgspec.json.encode(body)  # same bytes, same key order


def test_a_late_message_start_renews_the_chat_envelope() -> None:
    enc = get_codec(WireFormat.OPENAI_CHAT).stream_encoder("m")
    enc.feed(ev.MessageStart(id="a", created=1))
    enc.feed(ev.TextDelta(0, "x"))
    enc.feed(ev.MessageStart(id="b", created=2))
    (sse,) = enc.feed(ev.TextDelta(0, "y"))
    assert (_decoded(sse.data)["id"], _decoded(sse.data)["created"]) == ("b", 2)


@pytest.mark.parametrize("text", TEXTS)
def test_anthropic_text_deltas_carry_the_text_at_their_wire_index(text: str) -> None:
    enc = get_codec(WireFormat.ANTHROPIC).stream_encoder("m")
    enc.feed(ev.MessageStart(id="msg_1"))
    enc.feed(ev.BlockStart(3, _text_block()))
    enc.feed(ev.BlockStop(3))
    enc.feed(ev.BlockStart(5, _text_block()))
    (sse,) = enc.feed(ev.TextDelta(5, text))
    body = _decoded(sse.data)
    assert sse.event == "content_block_delta"
    assert body == {
        "type": "content_block_delta",
        "index": 1,
        "delta": {"type": "text_delta", "text": text},
    }
    assert sse.data == msgspec.json.encode(body)
    assert enc.feed(ev.TextDelta(9, text)) == []  # a block that never started


def _text_block() -> c.Text:
    return c.Text("")
