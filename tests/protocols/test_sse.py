"""The incremental SSE parser on the framings real streams use, fed in every possible chunking."""

from __future__ import annotations

import pytest

from octopus.protocols.sse import SseEvent, SseEventTooLarge, SseParser, encode_event


def _parse(raw: bytes, step: int) -> list[SseEvent]:
    parser = SseParser()
    events = [e for i in range(0, len(raw), step) for e in parser.feed(raw[i : i + step])]
    return events + parser.close()


CASES = {
    "crlf": (b"event: a\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n", [("a", b"1", ""), ("", b"2", "")]),
    "cr only": (b"data: 1\r\rdata: 2\r\r", [("", b"1", ""), ("", b"2", "")]),
    "no space after colon": (b"event:x\ndata:{}\n\n", [("x", b"{}", "")]),
    "last event without blank line": (b"data: 1\n\ndata: 2\n", [("", b"1", ""), ("", b"2", "")]),
    "last line without any end": (b"data: 1\n\ndata: 2", [("", b"1", ""), ("", b"2", "")]),
    "ids carry over": (b"id: 7\ndata: 1\n\ndata: 2\n\n", [("", b"1", "7"), ("", b"2", "7")]),
    "multi-line data": (b'data: {\ndata:  "a": 1}\n\n', [("", b'{\n "a": 1}', "")]),
    "comments and unknown fields": (
        b": hi\nretry: 5\nfoo: bar\ndata: 1\n\n: bye\n\n",
        [("", b"1", "")],
    ),
    "mixed endings": (b"data: 1\r\n\ndata: 2\n\r\n", [("", b"1", ""), ("", b"2", "")]),
    "utf-8 kept whole": (
        "data: caf\u00e9 \U0001f600\n\n".encode(),
        [("", "caf\u00e9 \U0001f600".encode(), "")],
    ),
}


@pytest.mark.parametrize(("raw", "expected"), list(CASES.values()), ids=list(CASES))
def test_every_chunking_gives_the_same_events(
    raw: bytes, expected: list[tuple[str, bytes, str]]
) -> None:
    for step in range(1, len(raw) + 1):
        got = [(e.event, e.data, e.id) for e in _parse(raw, step)]
        assert got == expected, step


def test_event_without_data_is_dispatched_by_name() -> None:
    assert _parse(b"event: ping\n\n", 100) == [SseEvent(data=b"", event="ping")]


def test_an_event_over_the_bound_is_refused() -> None:
    parser = SseParser(max_event_size=10)
    with pytest.raises(SseEventTooLarge):
        parser.feed(b"data: 0123456789abc\n")
    unfinished = SseParser(max_event_size=10)
    with pytest.raises(SseEventTooLarge):
        unfinished.feed(b"data: 0123456789abc")  # no line end yet: still bounded


def test_encoder_round_trips_multi_line_and_ids() -> None:
    event = SseEvent(data=b"a\nb", event="x", id="3")
    assert encode_event(event) == b"id: 3\nevent: x\ndata: a\ndata: b\n\n"
    assert _parse(encode_event(event), 1) == [event]


WHOLE = [
    b"data: 1\n\n",
    b"data: 1\n\ndata: [DONE]\n\n",
    b"data: \n\n",
    b"data:1\n\n",  # no space: the general path
    b"event: a\ndata: 1\n\ndata: 2\n\n",
    b": keep-alive\n\ndata: 1\n\n",
    b"data: 1\ndata: 2\n\n",
    b"id: 9\n\n",
    b"\n\n",
    b"data: 1\r\n\r\n",
    b'event: content_block_delta\ndata: {"a":1}\n\n',
    b"event: a\ndata: 1\n\nevent: b\ndata: 2\n\ndata: 3\n\n",
    b"event:  two spaces\ndata: 1\n\n",
    b"event: a:b\ndata: 1\n\n",
    b"event: \xff\ndata: 1\n\n",  # not UTF-8: replaced, as the general path does
    b"event: a\n\n",  # a name without data: the general path
    b"event: a\ndata: 1\ndata: 2\n\n",
    b"event: a\nid: 9\ndata: 1\n\n",
    b"event: a\ndata:1\n\n",
    b"event: a\ndata: 1\n\n: comment\n\n",
    b"event: a\ndata: \n\n",
    b"data: a\rb\n\n",  # a CR ends a line: not the one-line shortcut
    b"data: a\n\r\n",
    b"data: [DONE]\n\n",
    b"event: a\ndata: x\ny\n\n",  # a line of its own after the data line
    b"event: a\r\ndata: 1\n\n",
    b"event: a\ndata: 1\n\nevent: b\ndata: 2\n\n",
    b"event: a\ndata: 1\n\nevent: b\nid: 9\n\n",
    b"data: 1\nevent: a\n\n",
    b"data: 1\n\ndata: 2\nid: 9\n\n",
    b"data: 1\n\ndata:2\n\n",
]


@pytest.mark.parametrize("piece", WHOLE)
def test_whole_events_at_once_parse_as_byte_by_byte(piece: bytes) -> None:
    """Pieces that hold whole events take a shortcut; the events are those of the slow path,
    and the parser state after it (ids carried, nothing pending) is too."""
    raw = b"id: 5\ndata: 0\n\n" + piece + piece + b"data: z\n\n"
    fast, slow = SseParser(), SseParser()
    got = [e for part in (raw[:15], piece, piece, b"data: z\n\n") for e in fast.feed(part)]
    assert got == [e for i in range(len(raw)) for e in slow.feed(raw[i : i + 1])]
    assert got[0].id == "5"
    assert all(e.id in ("5", "9") for e in got)


def test_a_whole_event_over_the_bound_is_refused_on_the_shortcut_too() -> None:
    assert SseParser(max_event_size=11).feed(b"data: 0123456789\n\n") == [SseEvent(b"0123456789")]
    with pytest.raises(SseEventTooLarge):
        SseParser(max_event_size=10).feed(b"data: 0123456789\n\n")
    with pytest.raises(SseEventTooLarge):
        SseParser(max_event_size=10).feed(b"data: 0123456789\n")  # the general path agrees
    named = b"event: x\ndata: 0123456789\n\n"
    assert SseParser(max_event_size=11).feed(named) == [SseEvent(b"0123456789", "x")]
    with pytest.raises(SseEventTooLarge):
        SseParser(max_event_size=10).feed(named)


STREAMS = {
    "openai": b"".join(b'data: {"n":%d,"t":"tok %d"}\n\n' % (i, i) for i in range(12))
    + b"data: [DONE]\n\n",
    "anthropic": b"".join(b'event: content_block_delta\ndata: {"n":%d}\n\n' % i for i in range(12)),
    "mixed": b"event: a\ndata: 1\n\n: ping\n\ndata: 2\ndata: 3\n\nid: 4\ndata: 5\n\n"
    b"event: b\ndata: 6\n\ndata: 7\n\n",
    "crlf inside": b"data: 1\n\ndata: 2\r\n\r\ndata: 3\n\nevent: x\r\ndata: 4\n\n",
}


@pytest.mark.parametrize("raw", list(STREAMS.values()), ids=list(STREAMS))
def test_pieces_cut_anywhere_parse_as_byte_by_byte(raw: bytes) -> None:
    """Reads cut at any size (inside a line, between CR and LF, between the two line ends of a
    blank line) give the events and the state of a byte-by-byte parse, at every cut pair."""
    slow = SseParser()
    expected = [e for i in range(len(raw)) for e in slow.feed(raw[i : i + 1])] + slow.close()
    for first in range(1, len(raw)):
        for second in range(first, len(raw), 7):
            parser = SseParser()
            pieces = (raw[:first], raw[first:second], raw[second:])
            got = [e for piece in pieces for e in parser.feed(piece)] + parser.close()
            assert got == expected, (first, second)
