"""Direct body writes for streamed answers under uvicorn's httptools protocol.

A relayed stream writes one chunk per upstream event. Through ASGI each costs a message dict, a
`send` coroutine and its checks; here the relay frames the chunk and writes it to the connection's
transport itself, with uvicorn's own flow control. The protocol puts the writer in the request's
scope (`extensions["octopus.direct"]["body"]`); the response's start and end still go through
ASGI `send`, so uvicorn's keep-alive and completion logic stay in charge. The protocol also tells
the writer when the client left (`on_lost`), so the relay needs no task per request waiting on
ASGI `receive` for the disconnect.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from uvicorn._types import ASGI3Application
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

EXTENSION = "octopus.direct"


class DirectBody:
    """`relay.context.DirectWriter` over one request's uvicorn cycle."""

    __slots__ = ("_cycle", "_head", "_loop", "on_lost")

    def __init__(self, cycle: RequestResponseCycle, loop: asyncio.AbstractEventLoop) -> None:
        self._cycle = cycle
        self._loop = loop
        self._head = b""  # a stream's response head, waiting to leave with its first bytes
        self.on_lost: Callable[[], None] | None = None  # called once if the client leaves early

    @property
    def complete(self) -> bool:
        return self._cycle.response_complete

    def lost(self) -> None:
        callback, self.on_lost = self.on_lost, None
        if callback is not None and not self._cycle.response_complete:
            callback()

    def usable(self) -> bool:
        """A started, chunked, unfinished answer (what `write` frames for)."""
        cycle = self._cycle
        return (
            cycle.response_started
            and bool(cycle.chunked_encoding)
            and not cycle.response_complete
            and cycle.scope["method"] != "HEAD"
        )

    def write(self, chunk: bytes) -> bool:
        cycle = self._cycle
        if cycle.disconnected or not chunk:  # as uvicorn's send: a gone client's bytes are dropped
            return False
        framed = b"%x\r\n%b\r\n" % (len(chunk), chunk)
        if self._head:
            framed = self.take_head() + framed
        cycle.transport.write(framed)
        return cycle.flow.write_paused

    def wire(self) -> tuple[object, Callable[[bytes], object], object] | None:
        cycle = self._cycle
        return cycle, cycle.transport.write, cycle.flow

    def hold_head(self, head: bytes) -> None:
        """`head` leaves with the first body bytes (one write, one packet for the client to
        wake on), or on the loop's next turn if none come at once."""
        self._head = head
        self._loop.call_soon(self._flush_head)

    def take_head(self) -> bytes:
        """The held head (b"" once it left): for the next write to carry first."""
        head, self._head = self._head, b""
        return head

    def _flush_head(self) -> None:
        head = self.take_head()
        transport = self._cycle.transport
        if head and not self._cycle.disconnected and not transport.is_closing():
            transport.write(head)

    async def drain(self) -> None:
        cycle = self._cycle
        if cycle.flow.write_paused and not cycle.disconnected:
            await cycle.flow.drain()


class DirectHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, offering `DirectBody` to the app of each request."""

    _bodies: list[DirectBody] | None = None  # this connection's unfinished answers (pipelining)

    def claim(self, cycle: RequestResponseCycle) -> Coroutine[Any, Any, None] | None:
        """What serves this request in place of the ASGI app (web/native.py); None: the app."""
        return None

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        native = self.claim(cycle)
        if native is None:
            super()._start_asgi_task(cycle, app)
            return
        task = self.loop.create_task(native)  # tracked as uvicorn tracks its own
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and cycle.scope is self.scope:  # not an upgrade: a new cycle
            body = DirectBody(cycle, self.loop)
            extensions: dict[str, Any] = self.scope.setdefault("extensions", {})
            extensions[EXTENSION] = {"body": body}
            if self._bodies is None:
                self._bodies = [body]
            else:
                self._bodies.append(body)

    def on_response_complete(self) -> None:
        bodies = self._bodies
        if bodies:
            for body in bodies:
                if body.complete:
                    _detach(body)
            bodies[:] = [b for b in bodies if not b.complete]
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        for body in self._bodies or ():
            body.lost()
            _detach(body)
        self._bodies = None


def _detach(body: DirectBody) -> None:
    """Take the writer out of its scope: scope -> writer -> cycle -> scope would otherwise be a
    reference cycle per request, freed only by the garbage collector."""
    body._cycle.scope.get("extensions", {}).pop(EXTENSION, None)


def direct_body(scope: Any) -> DirectBody | None:
    """The request's direct writer, when the server is `DirectHttpProtocol`."""
    extension = scope.get("extensions", {}).get(EXTENSION)
    return None if extension is None else extension.get("body")
