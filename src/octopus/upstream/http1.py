"""One upstream HTTP/1.1 connection as an asyncio protocol, parsed by httptools (llhttp).

It carries one exchange at a time: `begin` writes a request, the parser fills the status, the
headers and a body buffer, and the reader waits on one future at a time (a swept deadline per
wait, no task). Reading pauses while more than HIGH_WATER bytes wait unread, so a slow client bounds
the memory a fast upstream can fill.

A streamed body can instead be pushed: while a sink is attached, the body pieces of each read
go to it joined, once per read or per PUSH_MAX bytes (no future, no timer, no task step per
piece, and one client write for the events an upstream sent in separate chunks together, with
a bounded copy), and the reader wakes only when the body ends, fails, falls silent for too
long, or the sink asks to pause. When the C part is built (setup.py), a pushed read of one
piece is done by `_pushread.Receiver`, the connection's `data_received`; every other read by the
Python methods here.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from types import MethodType

import httptools

from octopus.core.deadlines import Deadline, deadlines_of
from octopus.errors import UpstreamConnect, UpstreamError, UpstreamProtocol, UpstreamTimeout
from octopus.upstream.transport import Sink

try:
    from octopus.upstream._pushread import Receiver as Receiver
except ImportError:  # installed without a C compiler: data_received takes every read
    Receiver = None  # type: ignore[assignment,misc]

HIGH_WATER = 256 * 1024
LOW_WATER = 64 * 1024
TAKE_MAX = 64 * 1024  # the most one read hands on, joined
PUSH_MAX = 16 * 1024  # pushed pieces go on at this size, not only at the end of the read
MAX_HEAD = 256 * 1024  # status line and headers together
_NO_BODY_STATUS = (204, 304)


class Lost(Exception):
    """The connection closed under an exchange (mapped by the transport, never raised out)."""


class Http1Connection(asyncio.Protocol):
    """Keep-alive is allowed only once a response was read to its end and said keep-alive."""

    def __init__(self, loop: asyncio.AbstractEventLoop, origin: tuple[str, str, int]) -> None:
        self.loop = loop
        self.deadlines = deadlines_of(loop)
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        # the parser's body callback is this list's append: a C call per piece, no Python frame;
        # data_received hands the pieces on once the read is parsed
        self.pieces: list[bytes] = []
        self.on_body = self.pieces.append
        self.parser = httptools.HttpResponseParser(self)
        self.idle_until = 0.0  # monotonic time after which the pool must not reuse it
        self.on_idle_lost: Callable[[Http1Connection], None] | None = None
        self._reset()
        if Receiver is not None:  # the pushed one-piece reads in C, the rest below
            slow = MethodType(Http1Connection.data_received, self)
            # an instance attribute shadows the method: the loop looks data_received up on us
            self.data_received = Receiver(  # type: ignore[method-assign]
                self, self.pieces, self.parser.feed_data, loop.time, slow, httptools.HttpParserError
            )

    def _reset(self) -> None:
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.head_size = 0
        self.headers_done = False
        self.complete = False
        self.keep_alive = False
        self.got_bytes = False
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.paused = False
        self.error: UpstreamError | Lost | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.sink: Sink | None = None
        self.held = False  # the sink asked to pause: pieces buffer until the reader comes back
        self.heard_at = 0.0  # loop time of the last bytes while pushing (the silence timer)
        self._silence_timer: Deadline | None = None
        self.busy = False
        self.sent = False  # False: the upstream never saw this request, so it may go again

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        if not self.busy:  # bytes nobody asked for: this connection is no longer trustworthy
            self.close()
            return
        self.got_bytes = True
        if self.sink is not None:
            self.heard_at = self.loop.time()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._unparsable(exc)
            return
        pieces, sink = self.pieces, self.sink
        if sink is not None and len(pieces) == 1:  # a paced stream's read: one piece
            if sink(pieces.pop()):
                self._hold()
        else:
            self._received()

    def _received(self) -> None:
        """A parsed read that is not one pushed piece: its pieces handed on, reading paused
        while too much waits unread."""
        if self.pieces:
            self._hand_on()
        if self.buffered > HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def _hold(self) -> None:
        """The sink asked to pause: later reads are buffered until the reader comes back."""
        self.sink, self.held = None, True
        self._wake()

    def _unparsable(self, exc: httptools.HttpParserError) -> None:
        self._hand_on()  # what came before the fault goes on
        self._fail(UpstreamProtocol(f"upstream sent an invalid HTTP response: {exc}"))
        self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.busy and not self.complete:
            if self.headers_done and self._until_close():
                self.complete = True  # a close-delimited body ends with the connection
            else:
                self._fail(Lost(str(exc) if exc else "the upstream closed the connection"))
        self.keep_alive = False
        self._wake()
        if self.on_idle_lost is not None:
            self.on_idle_lost(self)

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_size += len(name) + len(value)
        if self.head_size > MAX_HEAD:
            raise httptools.HttpParserError(f"response headers over {MAX_HEAD} bytes")
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200:  # an interim answer: the real one follows
            self.headers = []
            return
        self.status = status
        self.headers_done = True
        self._wake()

    def on_message_complete(self) -> None:
        if not self.headers_done:
            return  # the end of an interim answer
        self.complete = True
        self.keep_alive = self.parser.should_keep_alive()
        self._wake()

    # the exchange

    def begin(self, data: bytes) -> None:
        self._reset()
        self.busy = True
        self.on_idle_lost = None
        if self.transport is None or self.transport.is_closing():
            self._fail(Lost("the upstream closed the connection"))
        else:
            self.sent = True
            self.transport.write(data)

    async def wait(self, seconds: float) -> None:
        """Until the parser made progress; TimeoutError when `seconds` pass in silence (a swept
        deadline, cheaper than a loop timer or an asyncio.timeout context per read)."""
        waiter = self.loop.create_future()
        self.waiter = waiter
        timer = self.deadlines.call_later(seconds, _expire, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self.waiter = None

    async def wait_pushed(self, sink: Sink, seconds: float) -> None:
        """Push body pieces into `sink` until the body ends, fails or the sink holds; raises
        TimeoutError after `seconds` without a byte (one timer, re-armed only when it fires)."""
        waiter = self.loop.create_future()
        self.waiter, self.sink, self.held = waiter, sink, False
        self.heard_at = self.loop.time()
        self._silence_timer = self.deadlines.call_at(
            self.heard_at + seconds, self._silence, waiter, seconds
        )
        try:
            await waiter
        finally:
            if self._silence_timer is not None:
                self._silence_timer.cancel()
            self.waiter = self.sink = self._silence_timer = None

    def _hand_on(self) -> None:
        """This read's body pieces to the sink, joined up to PUSH_MAX bytes at a time; to the
        buffer when there is no sink or it asked to pause."""
        if self.sink is None:  # the reader takes them (a response's first read, before its sink)
            self.chunks += self.pieces
            self.buffered += sum(map(len, self.pieces))
            self.pieces.clear()
            self._wake()
            return
        pieces = self.pieces[:]
        self.pieces.clear()
        start = 0
        while start < len(pieces) and self.sink is not None:
            end, size = start, 0
            while end < len(pieces) and size < PUSH_MAX:
                size += len(pieces[end])
                end += 1
            data = pieces[start] if end == start + 1 else b"".join(pieces[start:end])
            start = end
            if self.sink(data):
                self.sink, self.held = None, True  # later reads are buffered until it is back
        if start < len(pieces):
            rest = pieces[start:]
            self.chunks += rest
            self.buffered += sum(map(len, rest))
        if start < len(pieces) or self.held:  # the reader takes over (a sink's pieces: no wake)
            self._wake()

    def _silence(self, waiter: asyncio.Future[None], seconds: float) -> None:
        if waiter.done():
            return
        due = self.heard_at + seconds
        if self.loop.time() >= due:
            waiter.set_exception(TimeoutError())
        else:
            self._silence_timer = self.deadlines.call_at(due, self._silence, waiter, seconds)

    def take(self) -> bytes:
        """What is buffered, joined up to TAKE_MAX bytes (b"" when nothing is): a burst is handed
        on in bounded pieces instead of one copy of everything that piled up."""
        chunks = self.chunks
        if not chunks:
            return b""
        if self.buffered <= TAKE_MAX:
            taken, self.chunks, self.buffered = chunks, [], 0
        else:
            count, size = 1, len(chunks[0])
            while count < len(chunks) and size + len(chunks[count]) <= TAKE_MAX:
                size += len(chunks[count])
                count += 1
            taken, self.chunks = chunks[:count], chunks[count:]
            self.buffered -= size
        if self.paused and self.buffered <= LOW_WATER and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return taken[0] if len(taken) == 1 else b"".join(taken)

    def reusable(self) -> bool:
        return self.complete and self.keep_alive and self.transport is not None and not self.error

    def close(self) -> None:
        self.keep_alive = False
        if self.transport is not None:
            self.transport.close()

    def _until_close(self) -> bool:
        if self.status in _NO_BODY_STATUS:
            return False
        for name, value in self.headers:
            lowered = name.lower()
            if lowered == "content-length" or (
                lowered == "transfer-encoding" and "chunked" in value.lower()
            ):
                return False
        return True

    def _fail(self, error: UpstreamError | Lost) -> None:
        if self.error is None:
            self.error = error
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


def failure(conn: Http1Connection, doing: str) -> UpstreamError:
    """The connection's error as octopus.errors, phrased like the aiohttp transport's."""
    error = conn.error
    if isinstance(error, UpstreamError):
        return error
    if doing == "connecting":
        return UpstreamConnect(f"upstream connection failed while {doing}: {error}")
    return UpstreamConnect(f"upstream connection lost while {doing}")


def timed_out(doing: str) -> UpstreamTimeout:
    return UpstreamTimeout(f"upstream timed out while {doing}")
