"""The compiled converted sink (RunSink in relay/_passsink.c) against the Python path it stands
for: TextRuns, the client encoder's text_wire, ConvertedStream._encode and outlet's sink.

Both run the real ConvertedStream._pump, relay_rest, RunReader, encoders, Delivery, Keepalive
and DirectBody over the same reads; only uvicorn's cycle is a recorder (test_fastsink's). The
wire bytes, the output size, the usage, the kept log bytes and the error must be the same, and
the compiled one must take the usual paced reads of plain text itself.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from octopus.core.clock import SystemClock
from octopus.protocols import WireFormat, get_codec
from octopus.protocols.sse import SseParser
from octopus.protocols.text_runs import RunReader
from octopus.relay import fastsink
from octopus.relay.ready import Delivery
from octopus.relay.streaming import ConvertedStream
from octopus.web.direct import DirectBody
from tests.fakes import payloads
from tests.fakes.gateway import World
from tests.fakes.upstream import FakeUpstream, Fault
from tests.relay.test_fastsink import (
    Cycle,
    Reads,
    Responder,
    Wire,
    declines_all,
    needs_build,
    on_and_off,
    record_sinks,
)

LIMIT = 600
PATHS = [  # (upstream, client): the bench's three converted paths, and one more
    (WireFormat.OPENAI_CHAT, WireFormat.ANTHROPIC),
    (WireFormat.OPENAI_CHAT, WireFormat.GEMINI),
    (WireFormat.ANTHROPIC, WireFormat.OPENAI_CHAT),
    (WireFormat.GEMINI, WireFormat.ANTHROPIC),
]


@dataclass
class Shape:
    path: tuple[WireFormat, WireFormat] = PATHS[0]
    capture: int = 0
    head: bool = False
    pause_after: int | None = None
    leave_after: int | None = None


@dataclass
class Outcome:
    wire: bytes
    output_size: int
    usage: object
    kept: bytes | None
    error: str | None
    taken: int


def _raw_text(event: bytes) -> bytes:
    """`event` with its JSON written without \\u escapes (as most upstreams write text)."""
    lines = []
    for line in event.split(b"\n"):
        if line.startswith(b"data: {"):
            doc = json.loads(line[6:])
            line = b"data: " + json.dumps(doc, ensure_ascii=False).encode()
        lines.append(line)
    return b"\n".join(lines)


async def _convert(reads: list[bytes], compiled: bool, shape: Shape) -> Outcome:
    upstream, client = get_codec(shape.path[0]), get_codec(shape.path[1])
    reader = RunReader(SseParser(LIMIT), upstream.stream_decoder())
    encoder = client.stream_encoder("m")
    wire = Wire(shape.pause_after, shape.leave_after)
    direct = DirectBody(Cycle(wire), asyncio.get_running_loop())  # type: ignore[arg-type]
    if shape.head:
        direct.hold_head(b"HTTP/1.1 200 OK\r\n\r\n")
    stream = ConvertedStream(Reads(reads), None, [], client, "m", SystemClock())  # type: ignore[arg-type]
    stream.out = Delivery(capture=shape.capture)
    error = None
    with pytest.MonkeyPatch.context() as patch:
        sinks = record_sinks(patch, "converted_sink")
        patch.setattr(fastsink, "BUILT", compiled)
        try:
            await stream._pump(Responder(direct), encoder, reader)  # type: ignore[arg-type]
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
    out = stream.out
    return Outcome(
        bytes(wire.bytes) + direct.take_head(),
        out.output_size,
        out.usage,
        out.kept,
        error,
        sum(getattr(s, "taken", 0) for s in sinks),
    )


def _both(reads: list[bytes], shape: Shape) -> tuple[Outcome, Outcome]:
    async def run() -> tuple[Outcome, Outcome]:
        return await _convert(reads, False, shape), await _convert(reads, True, shape)

    return asyncio.run(run())


def _same_but_taken(outcome: Outcome) -> Outcome:
    return Outcome(outcome.wire, outcome.output_size, outcome.usage, outcome.kept, outcome.error, 0)


@needs_build
@pytest.mark.parametrize("path", PATHS, ids=lambda p: f"{p[0].value}-to-{p[1].value}")
def test_paced_plain_text_is_taken_in_c_and_relayed_alike(
    path: tuple[WireFormat, WireFormat],
) -> None:
    pieces = [f"word {i} ü ✓ " for i in range(40)]
    reads = [_raw_text(e) for e in payloads.stream_events(path[0], "up", pieces)]
    python, compiled = _both(reads, Shape(path, capture=800, head=True))
    assert python == _same_but_taken(compiled)
    assert python.taken == 0
    assert python.error is None
    assert python.output_size >= len("".join(pieces))
    # the first text deltas teach the envelope (Python's); C takes nearly all the rest
    assert compiled.taken >= len(pieces) - 4


@needs_build
def test_text_that_is_not_plain_stays_with_python() -> None:
    pieces = ['a "quote" ', "a \\ backslash ", "a\nbreak", "\u00e9t\u00e9", "tab\t", "", "ok"]
    pieces = [*(f"p{i} " for i in range(6)), *pieces, *(f"q{i} " for i in range(6))]
    escaped = list(payloads.stream_events(WireFormat.OPENAI_CHAT, "up", pieces))
    python, compiled = _both(escaped, Shape(capture=2000))
    assert python == _same_but_taken(compiled)
    # p0 opens the block and p1 teaches the envelope (Python's); then p2-p5, "ok" and q0-q5
    # are C's, never a quote, backslash, break, tab, \u escape or empty text
    assert compiled.taken == 4 + 1 + 6


_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)


@needs_build
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(_TEXT, max_size=30),
    raw=st.booleans(),
    junk=st.lists(st.tuples(st.integers(0, 40), st.sampled_from([b": ping\n\n", b"\x00\n\n"]))),
    cuts=st.lists(st.integers(0, 6000), max_size=8),
    whole=st.booleans(),
    shape=st.builds(
        Shape,
        path=st.sampled_from(PATHS),
        capture=st.integers(0, 1500),
        head=st.booleans(),
        pause_after=st.none() | st.integers(1, 30),
        leave_after=st.none() | st.integers(1, 40),
    ),
)
def test_any_converted_reads_relay_alike(
    pieces: list[str],
    raw: bool,
    junk: list[tuple[int, bytes]],
    cuts: list[int],
    whole: bool,
    shape: Shape,
) -> None:
    events = list(payloads.stream_events(shape.path[0], "up", pieces))
    events = [_raw_text(e) for e in events] if raw else events
    for at, extra in junk:
        events.insert(min(at, len(events)), extra)
    if whole:  # one event per read, the paced shape
        reads = events
    else:
        stream = b"".join(events)
        points = sorted({0, len(stream), *(c for c in cuts if c < len(stream))})
        reads = [stream[a:b] for a, b in itertools.pairwise(points)]
    python, compiled = _both(reads, shape)
    assert python == _same_but_taken(compiled)


async def test_a_converted_stream_through_the_gateway_takes_runs_in_c(
    fake: FakeUpstream, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end, an Anthropic channel to an OpenAI client, with the C part and without it:
    the same text and the same record; with it, most paced reads are relayed in C."""
    pieces = [f"token {i} " for i in range(40)]  # the fake writes \u escapes: ASCII here
    fault = Fault(pieces=pieces, gap=0.002)
    on, off = await on_and_off(world, fake, WireFormat.ANTHROPIC, fault, monkeypatch)
    texts, records = [], []
    for served in (on, off):
        events = [e for e in served.body.split(b"\n\n") if e.startswith(b"data: {")]
        chunks = [json.loads(e[6:]) for e in events]
        deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
        texts.append("".join(d.get("content") or "" for d in deltas))
        record = served.record
        records.append((record.status, record.usage.output, record.usage.estimated))
    assert texts[0] == texts[1] == "".join(pieces)
    assert records[0] == records[1]
    assert records[0][0] == "success"
    assert on.taken > len(pieces) // 2
    assert off.taken == 0


@needs_build
def test_the_type_refuses_misuse_and_frees_what_it_holds() -> None:
    from octopus.relay._passsink import RunSink

    with pytest.raises(TypeError, match="__init__"):
        RunSink.__new__(RunSink)(b"data: x\n\n")
    with pytest.raises(TypeError):
        RunSink(None, None, None, None, None, None, None, None, None, None, 0.1)  # type: ignore[arg-type]
    out, reader = (
        Delivery(),
        RunReader(SseParser(LIMIT), get_codec(WireFormat.OPENAI_CHAT).stream_decoder()),
    )
    before = (sys.getrefcount(RunSink), sys.getrefcount(out), sys.getrefcount(reader))
    for _ in range(1000):
        sink = RunSink(declines_all, reader, None, out, None, print, None, None, print, None, 0.1)
        del sink
    assert (sys.getrefcount(RunSink), sys.getrefcount(out), sys.getrefcount(reader)) == before
