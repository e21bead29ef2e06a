"""Text runs: a read of learned text deltas must decode exactly as the parser and decoder would.

Every stream (the golden fixtures, and hand-made ones with hostile texts) is cut into reads in
several ways and fed both through `RunReader` and through the SSE parser and decoder alone;
the coalesced events of each read must be the same, and the shortcut must actually be taken
where a stream's text deltas share one envelope.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import msgspec
import pytest

from octopus.protocols import WireFormat, get_codec
from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from octopus.protocols.sse import SseEventTooLarge, SseParser, encode_events
from octopus.protocols.text_runs import RunReader, TextRuns
from tests.protocols import golden

Reads = Callable[[list[bytes]], list[bytes]]


BLOCKS: dict[str, tuple[dict[str, object], str]] = {  # delta kind: block shell, delta field
    "text": ({"type": "text"}, "text"),
    "thinking": ({"type": "thinking"}, "thinking"),
    "input_json": ({"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}, "partial_json"),
}


def _anthropic(
    texts: list[str], *, middle: Sequence[bytes] = (), kind: str = "text"
) -> list[bytes]:
    def event(name: str, payload: object) -> bytes:
        data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)  # as Anthropic's
        return b"event: %s\ndata: %s\n\n" % (name.encode(), data.encode())

    start = {"type": "message_start", "message": {"id": "msg_1", "model": "m", "usage": {}}}
    shell, field = BLOCKS[kind]
    block = {"type": "content_block_start", "index": 0, "content_block": shell}
    deltas = [
        event(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": f"{kind}_delta", field: t},
            },
        )
        for t in texts
    ]
    half = len(deltas) // 2
    end = {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {}}
    return [
        event("message_start", start),
        event("content_block_start", block),
        *deltas[:half],
        *middle,
        *deltas[half:],
        event("content_block_stop", {"type": "content_block_stop", "index": 0}),
        event("message_delta", end),
        event("message_stop", {"type": "message_stop"}),
    ]


def _chunk(delta: dict[str, object], finish: str | None = None, ident: str = "c1") -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    body = {"id": ident, "object": "chat.completion.chunk", "created": 1, "model": "m"}
    return b"data: %s\n\n" % json.dumps({**body, "choices": [choice]}).encode()


def _chat(texts: list[str], *, middle: Sequence[bytes] = ()) -> list[bytes]:
    chunk = _chunk

    call = {"index": 0, "id": "call_1", "type": "function"}
    tool = chunk({"tool_calls": [{**call, "function": {"name": "f", "arguments": "{}"}}]})
    half = len(texts) // 2
    return [
        chunk({"role": "assistant", "content": ""}),
        *(chunk({"content": t}) for t in texts[:half]),
        *middle,
        tool,  # the text block closes; the texts after it open another
        *(chunk({"content": t}) for t in texts[half:]),
        chunk({}, "stop"),
        b"data: [DONE]\n\n",
    ]


DELTA = (  # an Anthropic text delta up to its text
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"'
)


def _chat_tool(pieces: list[str]) -> list[bytes]:
    def call(function: dict[str, str], ident: str | None = None) -> dict[str, object]:
        named = {"id": ident} if ident else {}
        return {"tool_calls": [{"index": 0, "function": function, **named}]}

    return [
        _chunk({"role": "assistant", "content": None}),
        _chunk(call({"name": "f", "arguments": ""}, "call_1")),
        *(_chunk(call({"arguments": p})) for p in pieces),
        _chunk({}, "tool_calls"),
        b"data: [DONE]\n\n",
    ]


def _stamped(delta: dict[str, object], stamp: bytes, extra: bytes = b"") -> bytes:
    """A chunk as OpenAI writes it: a random `obfuscation` stamp last (`extra` after it)."""
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
    body = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    raw = json.dumps({**body, "choices": [choice], "usage": None}, separators=(",", ":"))
    return b'data: %s,"obfuscation":"%s"%s}\n\n' % (raw.encode()[:-1], stamp, extra)


STAMP_TAIL = '"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"'
STAMPS = [b"", b"a", b"Qup1BsQ3", b"D3WbtIxo1Q2j1Q", b"x-_+/=." * 5]


def _chat_stamped(
    texts: list[str], *, middle: Sequence[bytes] = (), last: Sequence[bytes] = ()
) -> list[bytes]:
    half = len(texts) // 2
    stamps = [STAMPS[n % len(STAMPS)] for n in range(len(texts))]
    text = [_stamped({"content": t}, s) for t, s in zip(texts, stamps, strict=True)]
    return [
        _stamped({"role": "assistant", "content": ""}, b"r0"),
        *text[:half],
        *middle,
        *text[half:],
        *last,
        _stamped({}, b"end").replace(b'"finish_reason":null', b'"finish_reason":"stop"'),
        b"data: [DONE]\n\n",
    ]


# stamps that are not one value of safe characters: each such event goes the usual way
HOSTILE_STAMPS = [
    _stamped({"content": "q"}, b'a\\"b'),  # an escaped quote in the stamp
    _stamped({"content": "s"}, b"a b"),
    # a member after the stamp: here a second `choices`, which the decoder reads instead
    _stamped(
        {"content": "d"}, b"x", b',"choices":[{"index":0,"delta":{"content":"EVIL"}}],"z":"z"'
    ),
]
# broken JSON, which ends the decoder's stream: the stamp's opening quote taken as the end's,
# and a stamp without its closing quote
BROKEN_STAMP = _stamped({"content": "o"}, b"").replace(b'"obfuscation":""}', b'"obfuscation":"}')
UNCLOSED_STAMP = _stamped({"content": "u"}, b"abc").replace(b'"abc"}', b'"abcxy}')

TEXTS = [
    "Hello",
    ", wor",
    "ld",
    " é中",
    'say "hi"',
    "a\\",
    "b",
    "",
    "text",
    "\n",
    "tab\t",
    "x" * 40,
]
STREAMS: dict[str, tuple[WireFormat, list[bytes]]] = {
    "anthropic": (WireFormat.ANTHROPIC, _anthropic(TEXTS)),
    "anthropic-ping": (
        WireFormat.ANTHROPIC,
        _anthropic(TEXTS, middle=[b"event: ping\ndata: {}\n\n"]),
    ),
    "anthropic-thinking": (WireFormat.ANTHROPIC, _anthropic(TEXTS, kind="thinking")),
    "anthropic-tool": (
        WireFormat.ANTHROPIC,
        _anthropic(['{"loc', 'ation": "S', 'an \\"F\\"', "", '", "n": 1', "}"], kind="input_json"),
    ),
    "chat-tool": (WireFormat.OPENAI_CHAT, _chat_tool(['{"loc', 'ation": "S', 'an \\"F\\"', "}"])),
    "anthropic-comment": (WireFormat.ANTHROPIC, _anthropic(TEXTS, middle=[b": keep-alive\n\n"])),
    # an upstream's broken event: a string body cut short by a backslash, then one that would
    # complete it as an escape if the two were joined
    "anthropic-hostile": (
        WireFormat.ANTHROPIC,
        _anthropic(
            ["one", "two", "three", "four"], middle=[DELTA + b'ab\\"}}\n\n', DELTA + b'nd"}}\n\n']
        ),
    ),
    # a read that ends four bytes after a text's closing quote, on bytes other than the tail
    "anthropic-cut-after-quote": (
        WireFormat.ANTHROPIC,
        _anthropic(["one", "two", "three", "four"], middle=[DELTA + b'abc"}}\n ', b"\n\n"]),
    ),
    "anthropic-after-stop": (
        WireFormat.ANTHROPIC,
        [*_anthropic(TEXTS), *_anthropic(["late", "later"])[2:4]],
    ),
    # an event left without its blank line: the next one's data joins it
    "anthropic-dangling": (WireFormat.ANTHROPIC, _anthropic(TEXTS, middle=[b'data: {"x":1}\n'])),
    "chat": (WireFormat.OPENAI_CHAT, _chat(TEXTS)),
    "chat-stamped": (WireFormat.OPENAI_CHAT, _chat_stamped([*TEXTS, STAMP_TAIL, "after"])),
    # a string body cut short by a backslash (broken JSON), then an event that would complete
    # it as an escape if their bodies were joined
    "chat-stamped-backslash": (
        WireFormat.OPENAI_CHAT,
        _chat_stamped(
            ["one", "two", "three", "four", "five", "six"],
            middle=[
                _stamped({"content": "ab"}, b"s1").replace(b'"ab"', b'"ab\\"'),
                _stamped({"content": "nd"}, b"s2"),
            ],
        ),
    ),
    "chat-stamped-unclosed": (
        WireFormat.OPENAI_CHAT,
        _chat_stamped(["one", "two", "three", "four"], last=[UNCLOSED_STAMP]),
    ),
    "chat-stamped-hostile": (
        WireFormat.OPENAI_CHAT,
        _chat_stamped(
            ["one", "two", "three", "four", "five"], middle=HOSTILE_STAMPS, last=[BROKEN_STAMP]
        ),
    ),
    # the first text also stands in another field, which then changes: the text's place in the
    # envelope is not where that field is
    "chat-text-twice": (
        WireFormat.OPENAI_CHAT,
        _chat(
            ["c1", "c1", "c1", "x", "y"],
            middle=[_chunk({"content": "c1"}, ident="k2"), _chunk({"content": "z"}, ident="k2")],
        ),
    ),
    # JSON split over two data lines (legal SSE), then the same bytes with a bare line break,
    # which the parser reads as an unknown field
    "chat-two-lines": (
        WireFormat.OPENAI_CHAT,
        _chat(
            TEXTS,
            middle=[
                b'data: {"id":"c1","choices":[{"index":0,\ndata: "delta":{"content":"%s"}}]}\n\n'
                % t
                for t in (b"a", b"b")
            ]
            + [b'data: {"id":"c1","choices":[{"index":0,\n"delta":{"content":"c"}}]}\n\n'],
        ),
    ),
}


def _fixture_streams() -> dict[str, tuple[WireFormat, list[bytes]]]:
    found = {}
    for path in golden.stream_files():
        fmt = golden.fmt_of(path)
        for n, stream in enumerate(golden.load_stream(path)):
            found[f"{path.name}#{n}"] = (fmt, [encode_events([e]) for e in stream])
    return found


def _each(events: list[bytes]) -> list[bytes]:
    return events


def _together(events: list[bytes]) -> list[bytes]:
    return [b"".join(events)]


def _pairs(events: list[bytes]) -> list[bytes]:
    return [b"".join(events[i : i + 2]) for i in range(0, len(events), 2)]


def _cut(size: int) -> Reads:
    def reads(events: list[bytes]) -> list[bytes]:
        wire = b"".join(events)
        return [wire[i : i + size] for i in range(0, len(wire), size)]

    return reads


CUTS: dict[str, Reads] = {
    "each": _each,
    "together": _together,
    "pairs": _pairs,
    **{f"cut{size}": _cut(size) for size in (1, 7, 64, 301)},
}


def _same_ids(events: list[ev.Event]) -> list[ev.Event]:
    """Gemini's decoder makes up a random id per call: the two readers' ids cannot agree."""
    return [
        ev.BlockStart(e.index, msgspec.structs.replace(e.block, id="call"))
        if isinstance(e, ev.BlockStart) and isinstance(e.block, c.ToolCall)
        else e
        for e in events
    ]


def _usual(fmt: WireFormat, reads: list[bytes]) -> list[list[ev.Event]]:
    parser, decoder = SseParser(), get_codec(fmt).stream_decoder()
    out = []
    for read in reads:
        events = [e for sse in parser.feed(read) for e in decoder.feed(sse)]
        out.append(_same_ids(ev.coalesced(events)))
    return out


class _Counting(TextRuns):
    taken = 0

    def whole(self, data: bytes) -> list[ev.Event] | None:
        run = super().whole(data)
        _Counting.taken += run is not None
        return run

    def take(self, data: bytes) -> tuple[list[ev.Event], int] | None:
        run = super().take(data)
        _Counting.taken += run is not None
        return run


def _with_runs(fmt: WireFormat, reads: list[bytes]) -> list[list[ev.Event]]:
    parser = SseParser()
    reader = RunReader(parser, get_codec(fmt).stream_decoder())
    reader._runs = _Counting(parser.max_event_size)
    return [_same_ids(ev.coalesced(reader.feed(read))) for read in reads]


def _check(fmt: WireFormat, events: list[bytes]) -> None:
    for name, cut in CUTS.items():
        reads = cut(events)
        assert _with_runs(fmt, reads) == _usual(fmt, reads), name


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_hand_made_streams_read_as_the_decoder_reads_them(name: str) -> None:
    fmt, events = STREAMS[name]
    _Counting.taken = 0
    _check(fmt, events)
    assert _Counting.taken > 0  # the shortcut was taken, not only ever declined


FIXTURES = _fixture_streams()


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_recorded_streams_read_as_the_decoder_reads_them(name: str) -> None:
    _check(*FIXTURES[name])


def test_recorded_anthropic_text_goes_the_short_way() -> None:
    # six deltas: the first teaches the envelope, the other five are read by it
    assert _counted(*FIXTURES["vercel-ai__anthropic-text.chunks.txt#0"]) == 5


def test_recorded_openai_text_with_stamps_goes_the_short_way() -> None:
    """OpenAI's chunks end with a random `obfuscation` stamp: every text delta but the first
    (which teaches the envelope) is read by it, one event per read."""
    fmt, events = FIXTURES["vercel-ai__openai-text.chunks.txt#0"]
    decoder = get_codec(fmt).stream_decoder()
    texts = 0
    for sse in SseParser().feed(b"".join(events)):
        made = decoder.feed(sse)
        texts += len(made) == 1 and type(made[0]) is ev.TextDelta
    assert texts > 100
    assert _counted(fmt, events) == texts - 1


def test_a_stamp_that_is_not_last_is_learned_as_part_of_the_envelope() -> None:
    """Only a stamp that ends its event is a hole; a steady one elsewhere is plain envelope."""
    events = [_stamped({"content": f"t{n}"}, b"same", b',"z":"1"') for n in range(10)]
    # the first also opens the block, the second teaches the envelope, the other eight use it
    assert _counted(WireFormat.OPENAI_CHAT, events) == 8


def test_stamped_events_read_together_are_taken_event_by_event() -> None:
    """Stamped events in one read differ at each joint: the run is walked event by event."""
    events = _chat_stamped([f"t{n}" for n in range(12)])
    reads = [*events[:4], b"".join(events[4:10]), *events[10:]]
    _Counting.taken = 0
    assert _with_runs(WireFormat.OPENAI_CHAT, reads) == _usual(WireFormat.OPENAI_CHAT, reads)
    assert _Counting.taken == len(reads) - 5  # the six together as one run, those after one by one


def _counted(fmt: WireFormat, events: list[bytes]) -> int:
    _Counting.taken = 0
    _with_runs(fmt, events)
    return _Counting.taken


def test_an_envelope_that_changes_with_every_event_is_given_up() -> None:
    """An upstream that stamps each chunk inside its envelope (not last): learning stops."""

    def chunk(text: str, stamp: str) -> bytes:
        return (
            b'data: {"id":"c1","x":"%s","choices":[{"index":0,"delta":{"content":"%s"}}]}\n\n'
            % (
                stamp.encode(),
                text.encode(),
            )
        )

    steady = [chunk(f"t{n}", "same") for n in range(20)]
    stamped = [chunk(f"s{n}", f"stamp{n}") for n in range(20)]
    assert _counted(WireFormat.OPENAI_CHAT, steady) > 10
    assert _counted(WireFormat.OPENAI_CHAT, stamped[:10] + steady) == 0
    given_up = stamped[:10] + steady  # read by the parser and decoder alone from here on
    assert _with_runs(WireFormat.OPENAI_CHAT, given_up) == _usual(WireFormat.OPENAI_CHAT, given_up)


@pytest.mark.parametrize(
    ("fmt", "bound", "events", "learned", "text"),
    [
        (WireFormat.ANTHROPIC, 200, _anthropic(["a", "b", "c" * 300]), 2, "a"),
        (WireFormat.OPENAI_CHAT, 400, _chat_stamped(["a", "b", "c", "d" * 300]), 3, "c"),
    ],
    ids=["plain", "stamped"],
)
def test_an_event_over_the_parser_bound_is_refused_as_the_parser_refuses_it(
    fmt: WireFormat, bound: int, events: list[bytes], learned: int, text: str
) -> None:
    """Taken by a learned envelope or not, an event over the bound fails as in the parser."""
    reader = RunReader(SseParser(max_event_size=bound), get_codec(fmt).stream_decoder())
    for read in events[:4]:
        reader.feed(read)
    assert reader.feed(events[learned]) == [ev.TextDelta(0, text)]  # learned: the short way
    with pytest.raises(SseEventTooLarge):
        reader.feed(events[4])


def test_one_read_of_a_whole_stream_takes_its_text_as_one_run() -> None:
    """What a busy gateway reads at once: the opening events the usual way (the first text
    teaches the envelope), the rest of the text as one run, the closing events as usual."""
    plain = ["Hello", ", wor", "ld", " é中", 'say "hi"', "\n", "x" * 40]
    events = _anthropic(plain)
    assert _counted(WireFormat.ANTHROPIC, [b"".join(events)]) == 1
    reader = RunReader(SseParser(), get_codec(WireFormat.ANTHROPIC).stream_decoder())
    texts = [e for e in reader.feed(b"".join(events)) if isinstance(e, ev.TextDelta)]
    assert [t.text for t in texts] == [plain[0], "".join(plain[1:])]


def test_a_run_cut_inside_its_last_event_leaves_that_event_to_the_parser() -> None:
    fmt, events = STREAMS["anthropic"]
    head, deltas = b"".join(events[:3]), events[3:7]
    wire = b"".join(deltas)
    cut = len(wire) - 10
    reader = RunReader(SseParser(), get_codec(fmt).stream_decoder())
    reader.feed(head)
    assert reader.feed(wire[:cut]) == [ev.TextDelta(0, "".join(TEXTS[1:4]))]
    assert reader.feed(wire[cut:]) == [ev.TextDelta(0, TEXTS[4])]


def test_reads_cut_inside_events_still_take_runs() -> None:
    plain = [f"piece {n} " for n in range(60)]
    assert _counted(WireFormat.ANTHROPIC, _cut(301)(_anthropic(plain))) > 5
