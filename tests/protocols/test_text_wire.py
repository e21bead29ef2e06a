"""`StreamEncoder.text_wire`: the usual text delta's wire bytes in one fill must be exactly
what `feed` + `encode_events` give, for every client format, over every recorded stream."""

from __future__ import annotations

import pytest

from octopus.protocols import StreamEncoder, WireFormat, get_codec
from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from octopus.protocols.jsonio import Slot
from octopus.protocols.sse import encode_events
from tests.protocols import golden

CLIENTS = list(WireFormat)
TEXTS = ["", "plain", 'quote " and \\ backslash', "line\nbreak\ttab\x00\x1f", "é 漢字 🐙", "\u2028"]


def _usual(enc: StreamEncoder, events: list[ev.Event]) -> bytes:
    return b"".join(encode_events(enc.feed(e)) for e in events) + encode_events(enc.close())


def _wired(enc: StreamEncoder, events: list[ev.Event]) -> tuple[bytes, int]:
    """As a converted stream sends them: text deltas by `text_wire` where it answers."""
    out, used = [], 0
    for event in events:
        wire = enc.text_wire(event) if type(event) is ev.TextDelta else None
        if wire is None:
            out.append(encode_events(enc.feed(event)))
        else:
            out.append(wire)
            used += 1
    return b"".join(out) + encode_events(enc.close()), used


def _encoder(fmt: WireFormat) -> StreamEncoder:
    return get_codec(fmt).stream_encoder("m")


@pytest.mark.parametrize("client", CLIENTS, ids=[f.value for f in CLIENTS])
@pytest.mark.parametrize("path", golden.stream_files(), ids=golden.ids(golden.stream_files()))
def test_recorded_streams_give_the_same_bytes(client: WireFormat, path: object) -> None:
    for sse in golden.load_stream(path):  # type: ignore[arg-type]
        events = golden.decode_events(golden.fmt_of(path), sse)  # type: ignore[arg-type]
        wired, used = _wired(_encoder(client), events)
        assert wired == _usual(_encoder(client), events)
        texts = [e for e in events if type(e) is ev.TextDelta]
        if len(texts) > 1:
            assert used >= 1  # the fill is taken, not left to `feed` every time


def _text_stream(texts: list[str], message_id: str = "msg_1") -> list[ev.Event]:
    return [
        ev.MessageStart(id=message_id),
        ev.BlockStart(0, c.Text("")),
        *[ev.TextDelta(0, t) for t in texts],
        ev.BlockStop(0),
        ev.MessageDelta(stop_reason="end"),
        ev.MessageStop(),
        ev.TextDelta(0, "after the stop"),
    ]


@pytest.mark.parametrize("client", CLIENTS, ids=[f.value for f in CLIENTS])
@pytest.mark.parametrize("message_id", ["msg_1", Slot.MARKS[0]], ids=["plain", "marker-id"])
def test_hostile_texts_and_ids_give_the_same_bytes(client: WireFormat, message_id: str) -> None:
    events = _text_stream(TEXTS, message_id)
    wired, used = _wired(_encoder(client), events)
    assert wired == _usual(_encoder(client), events)
    assert used >= len(TEXTS) - 1  # all but, for OpenAI Chat, the first (it starts the chunk)


def _states(fmt: WireFormat) -> list[ev.Event]:
    """Mid-text turns that change what a text delta makes: an opaque signature of the client's
    own format (it rides on the next part), a failure with a block still open."""
    opaque = c.OpaqueState(origin=fmt, data="sig-1")
    return [
        ev.MessageStart(id="msg_1"),
        ev.BlockStart(0, c.Text("")),
        ev.TextDelta(0, "one"),
        ev.TextDelta(0, "two"),
        ev.OpaqueDelta(0, opaque),
        ev.TextDelta(0, "signed"),
        ev.TextDelta(0, "three"),
        ev.StreamError("upstream failed"),
        ev.TextDelta(0, "after the failure"),
    ]


@pytest.mark.parametrize("client", CLIENTS, ids=[f.value for f in CLIENTS])
def test_signatures_and_failures_mid_text_give_the_same_bytes(client: WireFormat) -> None:
    events = _states(client)
    wired, used = _wired(_encoder(client), events)
    assert wired == _usual(_encoder(client), events)
    assert used >= 2


@pytest.mark.parametrize("client", CLIENTS, ids=[f.value for f in CLIENTS])
def test_no_fill_for_a_delta_without_its_block_or_after_the_end(client: WireFormat) -> None:
    enc = _encoder(client)
    for event in _text_stream(["one", "two"])[:-1]:
        encode_events(enc.feed(event))
    assert enc.text_wire(ev.TextDelta(0, "late")) is None
    assert enc.feed(ev.TextDelta(0, "late")) == []
