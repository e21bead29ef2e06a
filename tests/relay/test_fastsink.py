"""The compiled passthrough sink (relay/_passsink.c) against the Python sink it stands for.

Both run the real relay_rest, _Metered, TextMeter, Delivery, Keepalive and DirectBody over the
same reads; only uvicorn's cycle is a recorder. Whatever the reads, they must put the same
bytes on the wire, meter the same size, see the same usage, keep the same log bytes and stop
with the same error; and the compiled one must take the usual paced reads itself.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from octopus.protocols import WireFormat, get_codec
from octopus.protocols.sse import SseEventTooLarge
from octopus.records.request import RequestRecord
from octopus.relay import fastsink, streaming
from octopus.relay.keepalive import Keepalive
from octopus.relay.metering import TextMeter
from octopus.relay.outlet import CompiledSink, relay_rest
from octopus.relay.ready import Delivery
from octopus.relay.streaming import _Metered
from octopus.upstream.transport import Sink
from octopus.web.direct import DirectBody
from tests.fakes.gateway import World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault

LIMIT = 400  # small, so that generated events run over it
USAGE = '{"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12}'


class Wire:
    """Stands for uvicorn's transport and flow control: records, and pauses when told."""

    def __init__(self, pause_after: int | None, leave_after: int | None) -> None:
        self.bytes = bytearray()
        self.writes = 0
        self.write_paused = False
        self.disconnected = False
        self._pause_after = pause_after
        self._leave_after = leave_after

    def write(self, data: bytes) -> None:
        self.bytes += data
        self.writes += 1
        if self.writes == self._pause_after:
            self.write_paused = True
        if self.writes == self._leave_after:
            self.disconnected = True

    async def drain(self) -> None:
        self.write_paused = False


@dataclass
class Cycle:
    """The fields of uvicorn's RequestResponseCycle that DirectBody reads."""

    wire: Wire
    scope: dict[str, object] = field(default_factory=lambda: {"method": "POST"})
    response_started: bool = True
    chunked_encoding: bool = True
    response_complete: bool = False

    @property
    def transport(self) -> Wire:
        return self.wire

    @property
    def flow(self) -> Wire:
        return self.wire

    @property
    def disconnected(self) -> bool:
        return self.wire.disconnected


class Responder:
    def __init__(self, direct: DirectBody) -> None:
        self.direct = direct

    async def write(self, chunk: bytes) -> None:
        self.direct.write(chunk)


class Reads:
    """An upstream response that pushes the given reads, pausing when the sink holds."""

    def __init__(self, reads: list[bytes]) -> None:
        self._reads = list(reads)

    async def push(self, sink: Sink) -> bool:
        while self._reads:
            if sink(self._reads.pop(0)):
                return False
        return True


def _recording(cutter: _Metered, direct: DirectBody, sinks: list[Sink]) -> CompiledSink:
    """The cutter's compiled sink for relay_rest, each one kept in `sinks` (for `taken`)."""

    def chosen(
        slow: Sink, out: Delivery, quiet: Keepalive, writer: object
    ) -> tuple[Sink, Callable[[], None]]:
        sink, settle = cutter.compiled(slow, out, quiet, direct)
        sinks.append(sink)
        return sink, settle

    return chosen


@dataclass
class Outcome:
    wire: bytes
    size: int
    usage: tuple[int, int] | None
    kept: bytes | None
    held_for_log: int  # bytes in out.pieces: no more than the log keeps, give or take a piece
    rest: bytes
    error: str | None
    taken: int


async def _relay(reads: list[bytes], compiled: bool, shape: Shape) -> Outcome:
    codec = get_codec(WireFormat.OPENAI_CHAT)
    meter = TextMeter(shape.envelope, 0, 8)
    meter.learning = shape.learning
    cutter = _Metered(LIMIT, codec.usage_tap(), meter, codec.stream_decoder())
    wire = Wire(shape.pause_after, shape.leave_after)
    direct = DirectBody(Cycle(wire), asyncio.get_running_loop())  # type: ignore[arg-type]
    if shape.head:
        direct.hold_head(b"HTTP/1.1 200 OK\r\n\r\n")
    out = Delivery(capture=shape.capture)
    sinks: list[Sink] = []

    chosen = _recording(cutter, direct, sinks)

    error = None
    try:
        await relay_rest(
            Reads(reads),  # type: ignore[arg-type]
            Responder(direct),  # type: ignore[arg-type]
            cutter.cut,
            out,
            (b": keep-alive\n\n", 60.0),
            chosen if compiled else None,
        )
    except SseEventTooLarge as exc:
        error = str(exc)
    usage = cutter.tap.usage
    return Outcome(
        bytes(wire.bytes) + direct.take_head(),
        meter.size,
        None if usage is None else (usage.input_tokens, usage.output_tokens),
        out.kept,
        sum(map(len, out.pieces)),
        cutter.rest(),
        error,
        sum(getattr(s, "taken", 0) for s in sinks),
    )


@dataclass
class Shape:
    learning: bool = False
    envelope: int = 40
    capture: int = 0
    head: bool = False
    pause_after: int | None = None
    leave_after: int | None = None


def _chunk(text: str, usage: str = "null") -> bytes:
    payload = {"id": "c", "choices": [{"index": 0, "delta": {"content": text}}]}
    return b"data: " + json.dumps(payload).encode()[:-1] + f', "usage": {usage}}}\n\n'.encode()


def _both(reads: list[bytes], shape: Shape) -> tuple[Outcome, Outcome]:
    async def run() -> tuple[Outcome, Outcome]:
        return await _relay(reads, False, shape), await _relay(reads, True, shape)

    return asyncio.run(run())


needs_build = pytest.mark.skipif(
    not fastsink.BUILT, reason="unreachable: test_the_compiled_sink_is_built fails first"
)


def test_the_compiled_sink_is_built() -> None:
    """`make test` builds it (setup.py); a silent build failure would leave it untested."""
    assert fastsink.BUILT


@needs_build
def test_paced_reads_are_taken_in_c_and_relayed_alike() -> None:
    reads = [_chunk(f"word {i} ") for i in range(30)]
    reads += [b'event: content_block_delta\ndata: {"delta": {"text": "two lines"}}\n\n']
    reads += [_chunk("", USAGE), b"data: [DONE]\n\n"]
    shape = Shape(capture=500, head=True)
    python, compiled = _both(reads, shape)
    assert python == _same_but_taken(compiled, 0)
    assert python.usage == (3, 9)
    assert python.taken == 0
    # the first read carries the head and the usage read goes to the tap (both Python's)
    assert compiled.taken == len(reads) - 2
    assert compiled.wire.startswith(b"HTTP/1.1 200 OK\r\n\r\n")
    assert compiled.wire.endswith(b"e\r\ndata: [DONE]\n\n\r\n")


@needs_build
def test_a_learning_meter_and_a_gone_client_stay_with_python() -> None:
    reads = [_chunk(f"w{i}") for i in range(10)]
    learning = _both(reads, Shape(learning=True))
    assert learning[0] == _same_but_taken(learning[1], 0)
    assert learning[1].taken == 9  # the first text event calibrates; C takes the rest
    gone = _both(reads, Shape(leave_after=3))
    assert gone[0] == _same_but_taken(gone[1], 0)
    assert gone[1].taken == 3
    assert gone[0].wire.count(b"\r\n") == 6  # three chunks went out before the client left


@needs_build
def test_reads_of_several_whole_events_are_taken_in_c_and_metered_per_event() -> None:
    three = [_chunk(f"a{i}") + b": ping\n\n" + _chunk(f"b{i} \u00fc") for i in range(8)]
    reads = [_chunk("first"), *three]
    reads += [_chunk("cr").replace(b"\n", b"\r\n") + _chunk("lf")]  # a CR: Python's
    reads += [_chunk("x") + _chunk("", USAGE)]  # a usage object: the tap's
    reads += [b"data: " + b"y" * (LIMIT - 20) + b"\n\n" + _chunk("over")]  # over the limit
    reads += [_chunk("tail") + b"data: [DONE]\n\n"]
    python, compiled = _both(reads, Shape(capture=700, head=True))
    assert python == _same_but_taken(compiled, 0)
    assert compiled.taken == len(three) + 1  # the sizes agree: C meters one envelope per event
    assert python.usage == (3, 9)


def record_sinks(patch: pytest.MonkeyPatch, name: str) -> list[Sink]:
    """Have streaming's `name` (passthrough_sink, converted_sink) keep each sink it makes."""
    sinks: list[Sink] = []
    made = getattr(fastsink, name)

    def recorded(*args: Any, **kwargs: Any) -> tuple[Sink, Callable[[], None]]:
        sink, settle = made(*args, **kwargs)
        sinks.append(sink)
        return sink, settle

    patch.setattr(streaming, name, recorded)
    return sinks


def _same_but_taken(outcome: Outcome, taken: int) -> Outcome:
    return Outcome(
        outcome.wire,
        outcome.size,
        outcome.usage,
        outcome.kept,
        outcome.held_for_log,
        outcome.rest,
        outcome.error,
        taken,
    )


_TEXT = st.text(st.characters(codec="utf-8"), max_size=60)
_EVENT = st.one_of(
    _TEXT.map(_chunk),
    _TEXT.map(lambda t: _chunk(t, USAGE)),
    _TEXT.map(lambda t: b"event: delta\ndata: " + json.dumps({"text": t}).encode() + b"\n\n"),
    st.just(b": ping\n\n"),
    st.just(b"data: [DONE]\n\n"),
    _TEXT.map(lambda t: _chunk(t).replace(b"\n", b"\r\n")),
    st.integers(LIMIT - 40, LIMIT + 40).map(lambda n: b"data: " + b"x" * n + b"\n\n"),
    st.binary(max_size=20),
)


@needs_build
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=st.lists(_EVENT, max_size=25),
    cuts=st.lists(st.integers(0, 4000), max_size=8),
    shape=st.builds(
        Shape,
        learning=st.booleans(),
        envelope=st.integers(0, 120),
        capture=st.integers(0, 1500),
        head=st.booleans(),
        pause_after=st.none() | st.integers(1, 20),
        leave_after=st.none() | st.integers(1, 30),
    ),
    whole=st.booleans(),
)
def test_any_reads_relay_alike(
    events: list[bytes], cuts: list[int], shape: Shape, whole: bool
) -> None:
    stream = b"".join(events)
    if whole:  # one event per read, the paced shape
        reads = [e for e in events if e]
    else:
        points = sorted({0, len(stream), *(c for c in cuts if c < len(stream))})
        reads = [stream[a:b] for a, b in itertools.pairwise(points)]
    python, compiled = _both(reads, shape)
    assert python == _same_but_taken(compiled, 0)


def _paced_writes() -> list[bytes]:
    chunk = {"id": "c", "object": "chat.completion.chunk", "model": "up-model"}
    role = [{"index": 0, "delta": {"role": "assistant"}}]
    events = [b"data: " + json.dumps({**chunk, "choices": role}).encode() + b"\n\n"]
    for i in range(40):
        delta = [{"index": 0, "delta": {"content": f"token {i} ü "}}]
        events.append(b"data: " + json.dumps({**chunk, "choices": delta}).encode() + b"\n\n")
    return [*events, b"data: [DONE]\n\n"]  # no usage: the output is estimated from the meter


@dataclass
class Served:
    body: bytes
    record: RequestRecord
    taken: int  # reads the compiled sink relayed itself


async def on_and_off(
    world: World, fake: FakeUpstream, kind: WireFormat, fault: Fault, patch: pytest.MonkeyPatch
) -> list[Served]:
    """One streamed chat request from an OpenAI client to a `kind` channel answering `fault`,
    through the gateway with the compiled sinks, then without them."""
    assert fastsink.BUILT, "the compiled sink is not built"
    made = "passthrough_sink" if kind is WireFormat.OPENAI_CHAT else "converted_sink"
    sinks = record_sinks(patch, made)
    world.channels.append(channel(fake, 1, kind))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    fake.always["c1"] = fault
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    served = []
    async with serve_relay(world) as gw, httpx.AsyncClient(timeout=30) as http:
        for built in (True, False):
            patch.setattr(fastsink, "BUILT", built)
            resp = await http.post(
                gw.url + "/v1/chat/completions",
                headers={"Authorization": f"Bearer {key}"},
                json=body,
            )
            served.append(Served(resp.content, gw.sink.records[-1], getattr(sinks[-1], "taken", 0)))
    assert len(sinks) == 2
    return served


async def test_a_paced_stream_through_the_gateway(
    fake: FakeUpstream, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end, with the C part and without it: the same bytes and the same estimated
    output; with it, most event reads are relayed in C."""
    writes = _paced_writes()
    fault = Fault(wire=writes, wire_gap=0.002)
    on, off = await on_and_off(world, fake, WireFormat.OPENAI_CHAT, fault, monkeypatch)
    for served in (on, off):
        assert served.body == b"".join(writes)
        assert (served.record.status, served.record.usage.estimated) == ("success", True)
    assert on.taken > len(writes) // 2
    assert off.taken == 0
    assert on.record.usage.output == off.record.usage.output > 0


class PacedReads(Reads):
    """Pushes one read every `gap` seconds."""

    def __init__(self, reads: list[bytes], gap: float) -> None:
        super().__init__(reads)
        self._gap = gap

    async def push(self, sink: Sink) -> bool:
        while self._reads:
            if sink(self._reads.pop(0)):
                return False
            await asyncio.sleep(self._gap)
        return True


@needs_build
async def test_no_keepalive_while_events_flow_and_one_after_a_silence() -> None:
    """The compiled sink stamps the keep-alive clock coarsely, never so coarsely that a stream
    whose events come well within the interval gets a keep-alive."""
    interval = 0.2
    codec = get_codec(WireFormat.OPENAI_CHAT)
    meter = TextMeter(40, 0, 8)
    cutter = _Metered(LIMIT, codec.usage_tap(), meter, codec.stream_decoder())
    wire = Wire(None, None)
    direct = DirectBody(Cycle(wire), asyncio.get_running_loop())  # type: ignore[arg-type]
    sinks: list[Sink] = []

    chosen = _recording(cutter, direct, sinks)

    reads = [_chunk(f"w{i}") for i in range(40)]  # 0.8 s of events, 20 ms apart
    await relay_rest(
        PacedReads(reads, 0.02),  # type: ignore[arg-type]
        Responder(direct),  # type: ignore[arg-type]
        cutter.cut,
        Delivery(),
        (b": keep-alive\n\n", interval),
        chosen,
    )
    assert getattr(sinks[0], "taken", 0) == len(reads)
    assert b"keep-alive" not in wire.bytes
    silent = PacedReads([_chunk("a"), _chunk("b")], 3 * interval)
    await relay_rest(
        silent,  # type: ignore[arg-type]
        Responder(direct),  # type: ignore[arg-type]
        cutter.cut,
        Delivery(),
        (b": keep-alive\n\n", interval),
        chosen,
    )
    assert b"keep-alive" in wire.bytes


def declines_all(chunk: bytes) -> bool:
    return False


@needs_build
def test_the_type_refuses_misuse_and_frees_what_it_holds() -> None:
    from octopus.relay._passsink import PassSink

    with pytest.raises(TypeError, match="__init__"):
        PassSink.__new__(PassSink)(b"data: x\n\n")
    with pytest.raises(TypeError):
        PassSink(None, None, None, None, None, None, None, None, None, None, 1, 0.1)  # type: ignore[arg-type]
    out = Delivery()
    before = (sys.getrefcount(PassSink), sys.getrefcount(out))
    for _ in range(1000):
        sink = PassSink(declines_all, None, None, out, None, print, None, None, print, None, 1, 0.1)
        del sink
    assert (sys.getrefcount(PassSink), sys.getrefcount(out)) == before
