"""Usage and cost of one request: the upstream's numbers when it reports them, else an estimate.

An estimate bills the input from the request's size and the output from the text that actually
reached the client, and is marked `estimated` in the record. A stream cut short (client gone,
upstream dropped, timeout) keeps whatever usage the upstream had reported, never less output
than was delivered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from octopus.pricing.cost import PriceBook, cost_of
from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from octopus.protocols.sse import SseEvent, encode_event
from octopus.records.request import CostRecord, RequestRecord, UsageRecord

BYTES_PER_TOKEN = 4  # rough: JSON-wrapped text averages about four bytes per token


def estimate_tokens(size: int) -> int:
    return max(1, size // BYTES_PER_TOKEN) if size else 0


_TEXT_EVENTS = (ev.TextDelta, ev.ReasoningDelta)  # a tuple: `A | B` builds a union per call


def text_size(event: ev.Event) -> int:
    """Characters of output text one canonical event carries."""
    if isinstance(event, _TEXT_EVENTS):
        return len(event.text)
    if isinstance(event, ev.ArgumentsDelta):
        return len(event.json)
    return 0


class TextMeter:
    """Output text of a relayed (undecoded) stream, estimated without decoding each event.

    The envelope of one event (ids, model, JSON keys) is measured once on the first content
    event; every later event counts its data bytes beyond that envelope.
    """

    __slots__ = ("envelope", "framing", "learning", "size")

    def __init__(self, envelope: int, size: int = 0, framing: int = 8) -> None:
        self.envelope = envelope
        self.size = size
        self.framing = framing  # wire bytes of one event around its data (`data: `, blank line)
        self.learning = False  # no text event seen yet: `learn` decodes until one comes

    @classmethod
    def calibrated(cls, raw: Sequence[SseEvent], decoded: Sequence[ev.Event]) -> TextMeter:
        text = sum(text_size(e) for e in decoded)
        last = len(raw[-1].data) if raw else 0
        last_text = text_size(decoded[-1]) if decoded else 0
        framing = len(encode_event(raw[-1])) - last if raw else 8
        meter = cls(max(0, last - last_text), text, framing)
        meter.learning = not last_text  # committed on a preamble (role chunk, block start)
        return meter

    def learn(
        self, events: Sequence[SseEvent], decode: Callable[[SseEvent], list[ev.Event]]
    ) -> None:
        """Count decoded text exactly until the first text event measures the envelope."""
        for sse in events:
            text = sum(text_size(e) for e in decode(sse))
            self.size += text
            if text and self.learning:
                self.envelope, self.learning = max(0, len(sse.data) - text), False

    def feed_wire(self, data: bytes, start: int = 0) -> None:
        """Whole events as they came on the wire (from `start`), unparsed: their bytes beyond one
        envelope each."""
        events = data.count(b"\n\n", start)
        if data.find(b"\r") >= 0:  # CR line ends are rare: one scan spares two counts
            events += data.count(b"\r\n\r\n", start) + data.count(b"\r\r", start)
        extra = len(data) - start - events * (self.envelope + self.framing)
        if extra > 0:
            self.size += extra

    def feed(self, event: SseEvent) -> None:
        extra = len(event.data) - self.envelope
        if extra > 0:
            self.size += extra


def settle(
    record: RequestRecord,
    usage: c.Usage | None,
    prices: PriceBook,
    *,
    request_size: int,
    output_size: int,
    complete: bool = True,
) -> None:
    """Fill `record.usage` and `record.cost` (price of the upstream model)."""
    reported = usage is not None and bool(usage.input_tokens or usage.output_tokens)
    if usage is not None and reported and complete:
        record.usage = UsageRecord.from_canonical(usage)
    else:
        record.usage = _estimate(usage if reported else None, request_size, output_size)
    record.cost = cost_of(record.usage, prices.price_for(record.upstream_model))


def _estimate(usage: c.Usage | None, request_size: int, output_size: int) -> UsageRecord:
    estimate = UsageRecord(
        input=estimate_tokens(request_size), output=estimate_tokens(output_size), estimated=True
    )
    if usage is not None:  # a partial report: trust its input, never bill less than delivered
        partial = UsageRecord.from_canonical(usage)
        partial.input = partial.input or estimate.input
        partial.output = max(partial.output, estimate.output)
        partial.estimated = True
        return partial
    return estimate


def add_input(record: RequestRecord, size: int, models: Iterable[str], prices: PriceBook) -> None:
    """Bill the estimated input of prompts sent upstream whose answers were abandoned, each at
    the price of the model it was sent to."""
    tokens = estimate_tokens(size)
    for model in models:
        record.usage.input += tokens
        record.usage.estimated = True
        extra = cost_of(UsageRecord(input=tokens), prices.price_for(model))
        record.cost = CostRecord(
            record.cost.input_cost + extra.input_cost, record.cost.output_cost + extra.output_cost
        )
