"""The text slot: stream encoders fill a pre-encoded envelope with each event's text, and the
bytes must be exactly those of encoding the whole envelope."""

from __future__ import annotations

from collections.abc import Callable
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
    assert slot.cut
    assert slot.fill(text) == msgspec.json.encode(_envelope(text))


@pytest.mark.parametrize("text", TEXTS)
def test_an_envelope_that_holds_the_marker_elsewhere_is_encoded_whole(text: str) -> None:
    def hostile(text: str) -> dict[str, str]:
        return {"id": Slot.MARKS[0], "text": text}  # an upstream id could say anything

    slot = Slot.around(hostile)
    assert not slot.cut
    assert slot.fill(text) == msgspec.json.encode(hostile(text))
    pair = Slot.around(lambda n, t: {"n": n, "id": Slot.MARKS[1], "t": t}, holes=2)
    assert not pair.cut
    assert pair.fill_pair(3, text) == msgspec.json.encode({"n": 3, "id": Slot.MARKS[1], "t": text})


@pytest.mark.parametrize("fmt", [WireFormat.OPENAI_CHAT, WireFormat.GEMINI])
def test_a_hostile_upstream_id_costs_one_try_per_stream_and_keeps_the_bytes(
    fmt: WireFormat, monkeypatch: pytest.MonkeyPatch
) -> None:
    tries: list[object] = []
    around = Slot.around

    def counted(envelope: Callable[..., object], holes: int = 1, **frame: Any) -> Slot:
        tries.append(envelope)
        return around(envelope, holes, **frame)

    monkeypatch.setattr(Slot, "around", staticmethod(counted))
    enc = get_codec(fmt).stream_encoder("m")
    enc.feed(ev.MessageStart(id=Slot.MARKS[0]))
    enc.feed(ev.BlockStart(0, _text_block()))
    texts = ["one", 'two "2"', "three\n"]
    sent = [sse for text in texts for sse in enc.feed(ev.TextDelta(0, text))]
    assert len(tries) == 1
    found = [_decoded(sse.data) for sse in sent]
    if fmt == WireFormat.GEMINI:
        assert [f["candidates"][0]["content"]["parts"][0]["text"] for f in found] == texts
        assert {f["responseId"] for f in found} == {Slot.MARKS[0]}
    else:
        assert [f["choices"][0]["delta"]["content"] for f in found] == texts
        assert {f["id"] for f in found} == {Slot.MARKS[0]}


def _decoded(data: bytes) -> Any:
    return msgspec.json.decode(data)


def _chat_chunk(text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-7",
        "object": "chat.completion.chunk",
        "created": 123,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }


def _gemini_chunk(text: str) -> dict[str, Any]:
    return {
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}],
        "modelVersion": "m",
        "responseId": "chatcmpl-7",
    }


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize(
    ("fmt", "expected"), [(WireFormat.OPENAI_CHAT, _chat_chunk), (WireFormat.GEMINI, _gemini_chunk)]
)
def test_text_chunks_carry_the_text_in_the_usual_envelope(
    fmt: WireFormat, expected: Callable[[str], dict[str, Any]], text: str
) -> None:
    enc = get_codec(fmt).stream_encoder("m")
    enc.feed(ev.MessageStart(id="chatcmpl-7", created=123))
    enc.feed(ev.BlockStart(0, _text_block()))
    (first,) = enc.feed(ev.TextDelta(0, text))
    (second,) = enc.feed(ev.TextDelta(0, text + "!"))
    for sse, want in ((first, text), (second, text + "!")):
        body = _decoded(sse.data)
        assert body == expected(want)
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


def test_gemini_text_after_a_signature_carries_it_once_and_a_new_id_renews() -> None:
    enc = get_codec(WireFormat.GEMINI).stream_encoder("m")
    enc.feed(ev.TextDelta(0, "a"))
    enc.feed(ev.OpaqueDelta(0, c.OpaqueState(WireFormat.GEMINI, "sig")))
    (signed,) = enc.feed(ev.TextDelta(0, "b"))
    (plain,) = enc.feed(ev.TextDelta(0, "c"))
    enc.feed(ev.MessageStart(id="r-2"))
    (renewed,) = enc.feed(ev.TextDelta(0, "d"))
    parts = [_decoded(s.data)["candidates"][0]["content"]["parts"] for s in (signed, plain)]
    assert parts == [[{"text": "b", "thoughtSignature": "sig"}], [{"text": "c"}]]
    assert "responseId" not in _decoded(plain.data)
    assert _decoded(renewed.data)["responseId"] == "r-2"


def test_a_two_hole_slot_fills_its_values_in_order() -> None:
    def envelope(number: object, text: object) -> dict[str, object]:
        return {"n": number, "id": "i", "t": text}

    slot = Slot.around(envelope, holes=2)
    assert slot.cut
    for number, text in ((0, ""), (17, 'a"b'), (123456, "é\n")):
        assert slot.fill_pair(number, text) == msgspec.json.encode(envelope(number, text))


@pytest.mark.parametrize("text", TEXTS)
def test_responses_text_deltas_number_every_event_in_the_usual_envelope(text: str) -> None:
    enc = get_codec(WireFormat.OPENAI_RESPONSES).stream_encoder("m")
    opened = [*enc.feed(ev.MessageStart(id="resp_1")), *enc.feed(ev.BlockStart(0, _text_block()))]
    numbers = [_decoded(s.data)["sequence_number"] for s in opened]
    deltas = [*enc.feed(ev.TextDelta(0, text)), *enc.feed(ev.TextDelta(0, text + "!"))]
    after = enc.feed(ev.BlockStop(0))
    bodies = [_decoded(s.data) for s in deltas]
    item_id = bodies[0]["item_id"]
    for offset, (sse, body, want) in enumerate(
        zip(deltas, bodies, (text, text + "!"), strict=True)
    ):
        assert sse.event == "response.output_text.delta"
        assert body == {
            "type": "response.output_text.delta",
            "sequence_number": numbers[-1] + 1 + offset,
            "item_id": item_id,
            "output_index": 0,
            "content_index": 0,
            "delta": want,
            "logprobs": [],
        }
        assert sse.data == msgspec.json.encode(body)
    assert _decoded(after[0].data)["sequence_number"] == numbers[-1] + 3  # numbering goes on
