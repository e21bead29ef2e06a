"""The passthrough sink, compiled for its usual read when the C part was built (setup.py).

A paced same-protocol stream gives the sink one whole event per upstream read. `_passsink.c`
does for that read what the Python sink does (streaming._Metered.cut's one-event branch, then
outlet's capture, keep-alive stamp and DirectBody.write): no parse, the meter counts the event's
bytes beyond one envelope, the first `capture` bytes stay for the log, the event goes out as one
HTTP chunk. It takes a read only when one event of one or two lines ends it, nothing is held,
no `"usage` is in it, the meter is calibrated, the response head has gone and the client is
still there; every other read goes to the Python sink unchanged, which the tests hold it to.

It counts the meter's size and the delivery's capture itself and puts them back before the
Python sink runs and when the stream ends (`settle`, from relay_rest's `finally`), so what is
billed and logged is the same. It stamps the keep-alive clock at most every 0.25 s (or 5 % of
the keep-alive interval): a keep-alive may come that much before its silence, never after.
"""

from __future__ import annotations

from collections.abc import Callable

from octopus.relay.context import DirectWriter
from octopus.relay.keepalive import Keepalive
from octopus.relay.metering import TextMeter
from octopus.relay.ready import Delivery
from octopus.upstream.transport import Sink

try:
    from octopus.relay._passsink import PassSink
except ImportError:  # installed without a C compiler: the Python sink takes every read
    PassSink = None  # type: ignore[assignment,misc]

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
    every = min(STAMP_EVERY, quiet.interval / 20)
    sink = PassSink(
        slow, cutter, meter, out, quiet, quiet.now, direct, cycle, write, flow, limit, every
    )
    return sink, sink.settle


def _settled() -> None:
    """The Python sink keeps its counts up to date itself."""
