"""The relay's sinks, compiled for their usual reads when the C part was built (setup.py).

A paced same-protocol stream gives the sink one whole event per upstream read; under load a
read holds a few. `_passsink.c` does for such a read what the Python sink does
(streaming._Metered.cut's one-event branch or `_metered`'s whole-events one, then outlet's
capture, keep-alive stamp and DirectBody.write): no parse, the meter counts the bytes beyond one
envelope per event, the first `capture` bytes stay for the log, the read goes out as one HTTP
chunk. It takes a read only when it is one event of one or two lines, or whole events without
CR (counted as `TextMeter.feed_wire` counts them), nothing is held, no `"usage` is in it, the
meter is calibrated, the response head has gone and the client is still there; every other read
goes to the Python sink unchanged, which the tests hold it to.

A converted stream's usual read is one text delta in the envelope its reader has learned
(protocols/text_runs.py). `RunSink` does for it what `TextRuns.whole`, the client encoder's
`text_wire` and outlet's sink do, when the text is plain (no quote, backslash or control
character; valid UTF-8): its JSON string is then the same bytes in the client's envelope, so it
is copied from one envelope into the other, and its characters are added to the delivery's
output size. It asks Python for both envelopes again after every read it leaves to Python.

Both count the meter's size (or the output size) and the delivery's capture themselves and put
them back before the Python sink runs and when the stream ends (`settle`, from relay_rest's
`finally`), so what is billed and logged is the same. They stamp the keep-alive clock at most
every 0.25 s (or 5 % of the keep-alive interval): a keep-alive may come that much before its
silence, never after.
"""

from __future__ import annotations

from collections.abc import Callable

from octopus.protocols.codec import StreamEncoder
from octopus.protocols.text_runs import RunReader
from octopus.relay.context import DirectWriter
from octopus.relay.keepalive import Keepalive
from octopus.relay.metering import TextMeter
from octopus.relay.ready import Delivery
from octopus.upstream.transport import Sink

try:
    from octopus.relay._passsink import PassSink, RunSink
except ImportError:  # installed without a C compiler: the Python sink takes every read
    PassSink = RunSink = None  # type: ignore[assignment,misc]

BUILT = PassSink is not None
STAMP_EVERY = 0.25  # seconds: the most between two keep-alive stamps (5 % of a short interval)


def passthrough_sink(  # noqa: PLR0913 - what the compiled read touches, named one by one
    slow: Sink,
    cutter: object,
    meter: TextMeter,
    limit: int,
    *,
    out: Delivery,
    quiet: Keepalive,
    direct: DirectWriter,
) -> tuple[Sink, Callable[[], None]]:
    """`slow`, with its usual read done in C when that part is built and `direct` allows it,
    and what puts the C sink's counts into `meter` and `out` (call it when the stream ends)."""
    wire = direct.wire() if BUILT else None
    if wire is None:
        return slow, _settled
    cycle, write, flow = wire
    every = _stamp_every(quiet)
    sink = PassSink(
        slow, cutter, meter, out, quiet, quiet.now, direct, cycle, write, flow, limit, every
    )
    return sink, sink.settle


def converted_sink(
    slow: Sink,
    reader: RunReader,
    encoder: StreamEncoder,
    *,
    out: Delivery,
    quiet: Keepalive,
    direct: DirectWriter,
) -> tuple[Sink, Callable[[], None]]:
    """`slow` (a converted stream's sink over `reader` and `encoder`), with its usual read done
    in C when that part is built and `direct` allows it; and what settles its counts."""
    wire = direct.wire() if BUILT else None
    if wire is None:
        return slow, _settled
    cycle, write, flow = wire
    sink = RunSink(
        slow,
        reader,
        encoder,
        out,
        quiet,
        quiet.now,
        direct,
        cycle,
        write,
        flow,
        _stamp_every(quiet),
    )
    return sink, sink.settle


def _stamp_every(quiet: Keepalive) -> float:
    return min(STAMP_EVERY, quiet.interval / 20)


def _settled() -> None:
    """The Python sink keeps its counts up to date itself."""
