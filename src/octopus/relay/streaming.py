"""Streams: the pre-commit read up to the first content event, then delivery to the client.

Passthrough relays the upstream bytes as they came (cut only at event boundaries, so an in-band
error never lands inside a half-written event) while a usage tap watches the parsed events;
only a silence of `keepalive_interval` adds bytes of our own (a keep-alive between two events).
Conversion pipes upstream SSE -> decoder -> canonical events -> encoder -> client SSE and sends
the client codec's keep-alive whenever the upstream is silent for `keepalive_interval`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from octopus.core.clock import Clock
from octopus.errors import GatewayError, UpstreamProtocol
from octopus.protocols import Codec, StreamDecoder, StreamEncoder, UsageTap
from octopus.protocols import events as ev
from octopus.protocols.sse import SseEvent, SseEventTooLarge, SseParser, encode_events
from octopus.protocols.text_runs import RunReader
from octopus.relay import retry
from octopus.relay.context import DirectWriter, HeaderList, Responder
from octopus.relay.cutter import EventCutter, has_usage, next_event, oversized
from octopus.relay.fastsink import converted_sink, passthrough_sink
from octopus.relay.keepalive import Keepalive
from octopus.relay.metering import TextMeter, text_size
from octopus.relay.outlet import relay_rest
from octopus.relay.ready import Delivery, UpstreamFailure
from octopus.upstream.transport import Sink, UpstreamResponse

_CONTENT = (
    ev.BlockStart,
    ev.TextDelta,
    ev.ArgumentsDelta,
    ev.ReasoningDelta,
    ev.OpaqueDelta,
    ev.BlockStop,
    ev.MessageDelta,
    ev.MessageStop,
)


_USAGE_EVENTS = (ev.MessageStart, ev.MessageDelta)  # a tuple: `A | B` builds a union per call


@dataclass(slots=True)
class Prefetched:
    """What was read before commit; `it` continues the same upstream body."""

    it: AsyncIterator[bytes]
    parser: SseParser
    decoder: StreamDecoder
    chunks: list[bytes] = field(default_factory=list)
    sse: list[SseEvent] = field(default_factory=list)
    events: list[ev.Event] = field(default_factory=list)
    content: bool = False
    ended: bool = False

    rest: list[SseEvent] = field(default_factory=list)  # read with the first content, undecoded
    tail: bytes = b""  # read with the commit point but never parsed (starts at an event boundary)

    def absorb(self, codec: Codec, batch: list[SseEvent], *, eager: bool = False) -> None:
        """Inspect and decode up to the first content event; park the rest of the batch raw.

        A burst can bring most of a stream in one read: decoding it all before commit would
        double the work of passthrough, which only needs the raw bytes from here on.
        """
        for index, sse in enumerate(batch):
            if self.content and not eager:
                self.rest.extend(batch[index:])
                return
            if not self.content:
                error = codec.first_event_error(sse)
                if error is not None:
                    raise UpstreamFailure(retry.in_band(error))
            self.sse.append(sse)
            for event in self.decoder.feed(sse):
                if isinstance(event, ev.StreamError):
                    raise UpstreamFailure(retry.in_band(event.to_error()))
                self.content = self.content or isinstance(event, _CONTENT)
                self.events.append(event)

    def take(self, codec: Codec, chunk: bytes, *, early: bool) -> bool:
        """Parse `chunk` one event at a time up to the commit point; True once there.

        A burst can bring most of a stream in one read: parsing it all before commit would cost
        passthrough per event, when it only needs the raw bytes from here on (kept in `tail`).
        Streams that end events with CR are parsed per chunk instead.
        """
        start, size = 0, len(chunk)
        while start < size:
            end = next_event(chunk, start)
            self.absorb(codec, self.parser.feed(chunk if end - start == size else chunk[start:end]))
            start = end
            if self.content or (early and self.events):
                self.tail = chunk[start:]
                if oversized(self.tail, self.parser.max_event_size):  # fail over, as parsed
                    raise SseEventTooLarge(
                        f"an SSE event exceeded {self.parser.max_event_size} bytes"
                    )
                return True
        return False

    def head(self) -> bytes:
        """The bytes read before commit that were parsed (all of them but `tail`)."""
        data = b"".join(self.chunks)
        return data[: len(data) - len(self.tail)] if self.tail else data

    def take_rest(self, reader: RunReader) -> list[ev.Event]:
        """Decode the parked events, then the tail through `reader` (conversion and accumulation
        need them; passthrough not)."""
        events = [event for sse in self.rest for event in self.decoder.feed(sse)]
        if self.tail:
            events += reader.feed(self.tail)
        self.rest, self.tail = [], b""
        return events

    def reader(self) -> RunReader:
        """What reads the rest of the stream: this parser and decoder, runs short-cut."""
        return RunReader(self.parser, self.decoder)


async def prefetch(
    resp: UpstreamResponse, codec: Codec, max_event_size: int, *, commit_early: bool = False
) -> Prefetched:
    """Read up to the first content event; an in-band error or empty stream is UpstreamFailure.

    `commit_early` (no member left to fail over to): stop at the first good event instead, so
    a preamble (role chunk, message_start) reaches the client without waiting for content.
    """
    pre = Prefetched(resp.aiter_bytes(), SseParser(max_event_size), codec.stream_decoder())
    try:
        async for chunk in pre.it:
            pre.chunks.append(chunk)
            if pre.take(codec, chunk, early=commit_early):
                return pre
        pre.absorb(codec, pre.parser.close(), eager=True)
        for event in pre.decoder.close():
            pre.content = pre.content or isinstance(event, _CONTENT)
            pre.events.append(event)
    except SseEventTooLarge as exc:
        raise UpstreamFailure(UpstreamProtocol(f"upstream stream: {exc}")) from None
    pre.ended = True
    if not pre.content:
        raise UpstreamFailure(UpstreamProtocol("upstream stream ended before the first event"))
    return pre


def _as_gateway_error(exc: Exception) -> GatewayError:
    if isinstance(exc, GatewayError):
        return exc
    return UpstreamProtocol(f"upstream stream: {exc}")


class _Metered(EventCutter):
    """Passthrough's per-read work: the whole events a piece completes, metered on the way.

    Its bound `cut` is the stream's `make`: one plain method call per upstream read.
    """

    __slots__ = ("decode", "meter", "tap")

    def __init__(self, limit: int, tap: UsageTap, meter: TextMeter, decoder: StreamDecoder) -> None:
        super().__init__(limit)
        self.tap, self.meter, self.decode = tap, meter, decoder.feed

    def cut(self, chunk: bytes) -> bytes:
        """The whole events `chunk` completes (b"" when none did), metered."""
        size, meter = len(chunk), self.meter
        end = chunk.find(b"\n")
        if 0 <= end < size - 3:  # a second line? (`event:` then `data:`: Anthropic, Responses)
            end = chunk.find(b"\n", end + 1)
        if (
            end == size - 2
            and chunk[-1] == 10  # LF
            and not self._held
            and size <= self._limit
            and not meter.learning
        ):
            # the usual paced read: one event of one or two lines, nothing held, so no scan or
            # count; it counts as one event even if CR-only line ends split it (only a hostile
            # upstream mixes those in), which can only raise the estimate
            ready = chunk
            extra = size - meter.envelope - meter.framing
            if extra > 0:
                meter.size += extra
        else:
            ready = self._metered(chunk)
            if not ready:
                return ready
        if has_usage(ready):
            for sse in self.usage_events(ready):
                self.tap.feed(sse)
        return ready

    def compiled(
        self, slow: Sink, out: Delivery, quiet: Keepalive, direct: DirectWriter
    ) -> tuple[Sink, Callable[[], None]]:
        """`slow` (the sink over `cut`) with its usual read done in C, when built."""
        return passthrough_sink(
            slow, self, self.meter, self._limit, out=out, quiet=quiet, direct=direct
        )

    def _metered(self, chunk: bytes) -> bytes:
        """`cut` for any other read: the whole events it completes, their text counted."""
        if not self._held and chunk.endswith(b"\n\n") and len(chunk) <= self._limit:
            ready = chunk  # whole events, nothing held: no scan for a boundary needed
        else:
            ready = self.push(chunk)
            if not ready:
                return ready
        if self.meter.learning:
            self._learn(ready)
        else:
            self.meter.feed_wire(ready)
        return ready

    def _learn(self, ready: bytes) -> None:
        """Decode event by event until the first text event measures the envelope (once per
        stream); the rest of `ready` is counted from its bytes, like every later region."""
        meter = self.meter
        parser, start, size = SseParser(len(ready) + 1), 0, len(ready)
        while meter.learning and start < size:
            end = next_event(ready, start)
            meter.learn(parser.feed(ready[start:end]), self.decode)
            start = end
        if start < size:
            meter.feed_wire(ready, start)


@dataclass(slots=True)
class PassthroughStream:
    resp: UpstreamResponse
    pre: Prefetched
    headers: HeaderList
    codec: Codec
    clock: Clock
    capture: int = 0
    status: int = 200
    keepalive_interval: float = 15.0

    tap: UsageTap | None = None
    meter: TextMeter | None = None
    out: Delivery = field(default_factory=Delivery)

    async def deliver(self, responder: Responder) -> Delivery:
        tap = self.tap = self.codec.usage_tap()
        meter = self.meter = TextMeter.calibrated(self.pre.sse, self.pre.events)
        for sse in self.pre.sse:
            tap.feed(sse)
        for sse in self.pre.rest:
            tap.feed(sse)
            meter.feed(sse)
        out = self.out = Delivery(first_byte_at=self.clock.monotonic(), capture=self.capture)
        await responder.start(self.status, self.headers)
        # the tap has seen the parsed events; the cutter parses from the event after them
        cutter = _Metered(self.pre.parser.max_event_size, tap, meter, self.pre.decoder)
        try:
            await self._send(responder, cutter.push(self.pre.head()), out)
            if self.pre.tail:
                await self._send(responder, cutter.cut(self.pre.tail), out)
            ended = self.pre.ended
            if not ended:
                keepalive = (self.codec.keepalive(), self.keepalive_interval)
                await relay_rest(self.resp, responder, cutter.cut, out, keepalive, cutter.compiled)
            rest = cutter.rest()  # an unfinished last event: relayed, and counted when pumped
            if not ended:
                meter.feed_wire(rest)
                for sse in [*cutter.usage_events(rest), *cutter.parser.close()]:
                    tap.feed(sse)
            await self._send(responder, rest, out)
        except (GatewayError, SseEventTooLarge) as exc:
            out.error = _as_gateway_error(exc)
            await responder.write(encode_events(self.codec.encode_stream_error(out.error)))
        await responder.end()
        return self.progress()

    def progress(self) -> Delivery:
        if self.tap is not None:
            self.out.usage = self.tap.usage
        if self.meter is not None:
            self.out.output_size = self.meter.size
        return self.out

    @staticmethod
    async def _send(responder: Responder, data: bytes, out: Delivery) -> None:
        if data:
            await responder.write(data)
            out.sent(data)

    async def aclose(self) -> None:
        await self.resp.aclose()


@dataclass(slots=True)
class ConvertedStream:
    resp: UpstreamResponse
    pre: Prefetched
    headers: HeaderList
    client: Codec
    model: str
    clock: Clock
    keepalive_interval: float = 15.0
    capture: int = 0
    status: int = 200
    out: Delivery = field(default_factory=Delivery)

    async def deliver(self, responder: Responder) -> Delivery:
        encoder = self.client.stream_encoder(self.model)
        out = self.out = Delivery(first_byte_at=self.clock.monotonic(), capture=self.capture)
        await responder.start(self.status, self.headers)
        try:
            reader = self.pre.reader()
            await self._emit(responder, encoder, self.pre.events + self.pre.take_rest(reader))
            if not self.pre.ended:
                await self._pump(responder, encoder, reader)
        except (GatewayError, SseEventTooLarge) as exc:
            out.error = _as_gateway_error(exc)
            await self._emit(responder, encoder, [ev.StreamError.from_error(out.error)])
        tail = encode_events(encoder.close())
        await responder.end(tail)
        out.sent(tail)
        return out

    def progress(self) -> Delivery:
        return self.out

    async def _pump(self, responder: Responder, encoder: StreamEncoder, reader: RunReader) -> None:
        def make(chunk: bytes) -> bytes:
            return self._encode(encoder, reader.feed(chunk))

        def compiled(
            slow: Sink, out: Delivery, quiet: Keepalive, direct: DirectWriter
        ) -> tuple[Sink, Callable[[], None]]:
            return converted_sink(slow, reader, encoder, out=out, quiet=quiet, direct=direct)

        keepalive = (self.client.keepalive(), self.keepalive_interval)
        await relay_rest(self.resp, responder, make, self.out, keepalive, compiled)
        await self._emit(responder, encoder, reader.close())

    async def _emit(
        self, responder: Responder, encoder: StreamEncoder, events: list[ev.Event]
    ) -> None:
        data = self._encode(encoder, events)
        if data:
            self.out.sent(data)
            await responder.write(data)

    def _encode(self, encoder: StreamEncoder, events: list[ev.Event]) -> bytes:
        """The client-format bytes of `events` (b"" when they make none), metered."""
        sse: list[SseEvent] = []
        out = self.out
        if len(events) > 1:  # a read of several events: each run of deltas goes out as one
            events = ev.coalesced(events)
        if len(events) == 1 and type(events[0]) is ev.TextDelta:  # the usual read
            wire = encoder.text_wire(events[0])
            if wire is not None:
                out.output_size += len(events[0].text)
                return wire
        for event in events:
            if type(event) is ev.TextDelta:  # the usual event: no further checks
                out.output_size += len(event.text)
            else:
                if isinstance(event, _USAGE_EVENTS) and event.usage is not None:
                    out.usage = event.usage
                out.output_size += text_size(event)
            sse += encoder.feed(event)
        return encode_events(sse) if sse else b""

    async def aclose(self) -> None:
        await self.resp.aclose()
