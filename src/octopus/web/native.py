"""Relay requests served on uvicorn's connection without ASGI messages in between.

uvicorn parses the request and keeps the connection (keep-alive, pipelining, flow control,
graceful shutdown); for a request the app claims (web/direct.py `claim`), the relay reads the
body through the cycle's `receive` and writes its answer here, straight to the transport: no
message dict and no header validation pass per `send`, and a non-streamed answer leaves in one
write, head and body together. The cycle's flags are kept as uvicorn's `send` keeps them, so the
protocol's own logic (keep-alive timer, next pipelined request, `DirectBody`) is unchanged.
"""

from __future__ import annotations

import asyncio
import http
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from octopus.web.direct import DirectBody, DirectHttpProtocol, direct_body
from octopus.web.relay_asgi import Receive, Scope, ServerResponder, inbound_of
from octopus.web.relay_routes import RelayApp

log = logging.getLogger("octopus.relay")

_BARE = (204, 304)  # answers that never carry a body
_SERVER_ERROR = (
    b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 21\r\nconnection: close\r\n\r\nInternal Server Error"
)


def _status_line(code: int) -> bytes:
    try:
        phrase = http.HTTPStatus(code).phrase
    except ValueError:
        phrase = ""
    return f"HTTP/1.1 {code} {phrase}\r\n".encode()


STATUS_LINES = {code: _status_line(code) for code in range(100, 600)}


class HeaderBreak(ValueError):
    """A response header would hold a line break or NUL (never sent)."""


class CycleResponder(ServerResponder):
    """The relay's Responder writing to one uvicorn request cycle's transport."""

    __slots__ = ("_chunked", "_cycle", "_head", "_pending")

    def __init__(self, cycle: RequestResponseCycle, body: DirectBody | None) -> None:
        super().__init__(body)
        self._cycle = cycle
        self._chunked = False
        self._head = cycle.scope["method"] == "HEAD"  # a HEAD request: the head only
        self._pending = b""  # a sized answer's head, sent with its body

    async def start(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.started = True
        cycle = self._cycle
        await _writable(cycle)
        if cycle.disconnected:
            return
        head, chunked = _encode_head(cycle, status, headers, self._head)
        cycle.response_started = True
        cycle.waiting_for_100_continue = False
        self._chunked = cycle.chunked_encoding = chunked
        if chunked and self._body is not None:
            self._body.hold_head(head)  # with the first event, or at once if none is ready
        elif chunked:
            cycle.transport.write(head)  # a stream's head goes at once: the client waits on it
        else:
            self._pending = head

    async def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        cycle = self._cycle
        await _writable(cycle)
        if cycle.disconnected or cycle.response_complete:
            return
        data = self._framed(chunk)
        if data:
            cycle.transport.write(data)

    async def end(self, chunk: bytes = b"") -> None:
        self.finished = True
        cycle = self._cycle
        await _writable(cycle)
        if cycle.disconnected or cycle.response_complete:
            return
        data = self._framed(chunk) + b"0\r\n\r\n" if self._chunked else self._framed(chunk)
        if data:
            cycle.transport.write(data)
        cycle.response_complete = True
        cycle.message_event.set()
        if not cycle.keep_alive:
            cycle.transport.close()
        cycle.on_response()

    def _framed(self, chunk: bytes) -> bytes:
        """`chunk` as it goes on the wire, after the head still pending (if any)."""
        pending, self._pending = self._pending, b""
        if self._chunked and self._body is not None:
            pending = self._body.take_head()
        if self._head or not chunk:
            return pending
        framed = b"%x\r\n%b\r\n" % (len(chunk), chunk) if self._chunked else chunk
        return pending + framed if pending else framed


async def _writable(cycle: RequestResponseCycle) -> None:
    if cycle.flow.write_paused and not cycle.disconnected:
        await cycle.flow.drain()


def _encode_head(
    cycle: RequestResponseCycle, status: int, headers: list[tuple[str, str]], head_only: bool
) -> tuple[bytes, bool]:
    """The status line and headers, and whether the body is chunked (as uvicorn's `send`)."""
    lines = [f"{name}: {value}\r\n" for name, value in headers]
    chunked: bool | None = None
    has_connection = False
    for name, value in headers:
        lowered = name.lower()
        if lowered == "content-length" and chunked is None:
            chunked = False
        elif lowered == "transfer-encoding" and value.lower() == "chunked":
            chunked = True
        elif lowered == "connection":
            has_connection = True
            if "close" in value.lower():
                cycle.keep_alive = False
    text = "".join(lines)
    if text.count("\n") != len(lines) or text.count("\r") != len(lines) or "\0" in text:
        raise HeaderBreak("a response header holds a line break")
    if not cycle.keep_alive and not has_connection:
        text += "connection: close\r\n"
    if chunked is None and not head_only and status not in _BARE:
        chunked = True
        text += "transfer-encoding: chunked\r\n"
    defaults = b"".join(b"%s: %s\r\n" % pair for pair in cycle.default_headers)
    head = STATUS_LINES[status] + defaults + text.encode("utf-8", "surrogateescape") + b"\r\n"
    return head, bool(chunked) and not head_only


def scope_of(cycle: RequestResponseCycle) -> Scope:
    scope: Scope = cycle.scope  # type: ignore[assignment]  # uvicorn's TypedDict, a plain mapping
    return scope  # (not typing.cast: a function call per request)


async def serve_cycle(relay: RelayApp, cycle: RequestResponseCycle) -> None:
    """One claimed request, guarded as uvicorn guards an ASGI app: a failure before the answer
    started gets a 500, one after it closes the connection; neither leaves it hanging."""
    scope = scope_of(cycle)
    responder = CycleResponder(cycle, direct_body(scope))
    receive: Receive = cycle.receive  # type: ignore[assignment]  # the same callable, typed by uvicorn
    try:
        await relay.serve(inbound_of(scope, receive), responder)
    except Exception:
        log.exception("relay request failed")
        _abort(cycle)
    except asyncio.CancelledError:
        _abort(cycle)
        raise
    else:
        if not cycle.response_complete and not cycle.disconnected:
            cycle.transport.close()
    finally:
        cycle.on_response = _nothing  # as uvicorn: the protocol is not called back after this


def _abort(cycle: RequestResponseCycle) -> None:
    if cycle.response_complete or cycle.disconnected:
        return
    if not cycle.response_started:
        cycle.response_started = cycle.response_complete = True
        cycle.transport.write(_SERVER_ERROR)
    cycle.transport.close()


def _nothing() -> None:
    """The cycle's completion callback once its request is over."""


def native_protocol(claim: Callable[[Scope], RelayApp | None]) -> type[DirectHttpProtocol]:
    """uvicorn's httptools protocol serving here each request `claim` gives a relay for."""

    class NativeProtocol(DirectHttpProtocol):
        def claim(self, cycle: RequestResponseCycle) -> Coroutine[Any, Any, None] | None:
            relay = claim(scope_of(cycle))
            return None if relay is None else serve_cycle(relay, cycle)

    return NativeProtocol
