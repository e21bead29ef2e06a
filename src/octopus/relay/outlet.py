"""Where a stream's sink puts the bytes it made of an upstream piece.

The upstream pushes body pieces into a synchronous sink (upstream/transport.py `push`). With a
server that offers direct writes the sink writes straight to the client, so a paced stream costs
no coroutine step per event; without them the bytes queue and the pump writes them through the
responder after each piece. A sink never raises into the upstream's parser: it records the
failure here and asks to stop, and the pump raises it.
"""

from __future__ import annotations

from collections.abc import Callable

from octopus.relay.context import DirectWriter, Responder
from octopus.relay.keepalive import Keepalive
from octopus.relay.ready import Delivery
from octopus.upstream.transport import Sink, UpstreamResponse

# the Python sink, the delivery, the keep-alive and the writer -> the sink to use, and what
# settles its counts when the stream ends
CompiledSink = Callable[[Sink, Delivery, Keepalive, DirectWriter], tuple[Sink, Callable[[], None]]]


async def relay_rest(
    resp: UpstreamResponse,
    responder: Responder,
    make: Callable[[bytes], bytes],
    out: Delivery,
    keepalive: tuple[bytes, float],
    compiled: CompiledSink | None = None,
) -> None:
    """The rest of `resp`'s body to the client: each piece made into client bytes by `make`
    (whole events only, so the keep-alive sent during a silence never splits one).
    `compiled`: the sink again, faster where it can be (relay/fastsink.py)."""
    quiet = Keepalive(responder.write, *keepalive)
    now = quiet.now
    outlet = Outlet(responder)
    direct = outlet.direct

    def sink(chunk: bytes) -> bool:  # called from the upstream's parser: must not raise
        try:
            data = make(chunk)
        except Exception as exc:
            return outlet.fail(exc)
        if not data:
            return False
        if out.capture > 0:  # Delivery.sent, inline: no call per event while the log keeps
            out.pieces.append(data)
            out.capture -= len(data)
        quiet.last = now()
        return direct.write(data) if direct is not None else outlet.put(data)

    push: Sink = sink
    settle = _settled
    if compiled is not None and direct is not None:
        push, settle = compiled(sink, out, quiet, direct)
    try:
        await outlet.pump(resp, push)
    finally:
        try:
            settle()  # however the stream ended: what went out is metered and kept
        finally:
            await quiet.stop()


def _settled() -> None:
    """The Python sink's counts are always up to date."""


class Outlet:
    __slots__ = ("_queued", "_responder", "direct", "failure")

    def __init__(self, responder: Responder) -> None:
        self._responder = responder
        self.direct = responder.direct
        self._queued: list[bytes] = []
        self.failure: Exception | None = None

    def put(self, data: bytes) -> bool:
        """Send `data` on; True when the pump must take over (flush, or wait for the client)."""
        direct = self.direct
        if direct is not None:
            return direct.write(data)
        self._queued.append(data)
        return True

    def fail(self, exc: Exception) -> bool:
        self.failure = exc
        return True

    async def pump(self, resp: UpstreamResponse, sink: Sink) -> None:
        """The rest of `resp`'s body through `sink`, to its end or the sink's failure."""
        while not await resp.push(sink):
            await self._flush()
            if self.failure is not None:
                raise self.failure

    async def _flush(self) -> None:
        if self._queued:
            data = self._queued[0] if len(self._queued) == 1 else b"".join(self._queued)
            self._queued.clear()
            await self._responder.write(data)
        elif self.direct is not None:
            await self.direct.drain()
