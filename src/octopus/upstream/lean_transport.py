"""The default transport: HTTP/1.1 over our own keep-alive pool for direct http(s) channels.

aiohttp spent about a quarter of the relay's CPU per non-stream request on machinery we do
not use (cookie jars, redirects, multidicts, a timer context per phase); this pool writes the
request in one go and reads with httptools. Channels behind a proxy, and any URL it does not
handle, go to `proxied` (the aiohttp transport) unchanged. Errors read as the aiohttp
transport's do, so retry.py classifies both alike.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from octopus.errors import UpstreamConnect, UpstreamProtocol
from octopus.upstream.http1 import Http1Connection, failure, timed_out
from octopus.upstream.transport import (
    Headers,
    Sink,
    Transport,
    UpstreamRequest,
    UpstreamResponse,
    find_header,
    scrub,
)

KEEPALIVE_SECONDS = 60.0
KEEP_MARGIN = 1.0  # seconds before an announced keep-alive timeout that we stop reusing
IDLE_PER_ORIGIN = 1000
CONNECTS_AT_ONCE = 100  # new connections being set up at one time, across origins
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
_URL_CACHE_SIZE = 1024
Origin = tuple[str, str, int]  # scheme, host, port


class LeanResponse:
    __slots__ = ("_conn", "_pool", "_timeout", "headers", "status")

    def __init__(self, conn: Http1Connection, pool: Pool, timeout: float) -> None:
        self._conn: Http1Connection | None = conn
        self._pool = pool
        self._timeout = timeout
        self.status: int = conn.status
        self.headers: Headers = conn.headers

    def header(self, name: str) -> str | None:
        return find_header(self.headers, name)

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        return _Body(self)  # not a generator: one left unfinished needs no finalizer task

    async def push(self, sink: Sink) -> bool:
        """Body pieces into `sink` as they arrive: True at the body's end, False when the sink
        asked to pause (call again once the client drained)."""
        conn = self._conn
        while conn is not None:
            while chunk := conn.take():  # what arrived before, or while the sink held
                if sink(chunk):
                    return False
            if conn.complete:
                await self.aclose()
                return True
            if conn.error is not None:
                raise failure(conn, "reading the response")
            try:
                await conn.wait_pushed(sink, self._timeout)
            except TimeoutError:
                raise timed_out("reading the response") from None
            if conn.held:
                return False
            conn = self._conn
        return True

    async def read(self, limit: int | None = None) -> bytes:
        parts: list[bytes] = []
        size = 0
        while chunk := await self._next():
            size += len(chunk)
            if limit is not None and size > limit:
                raise UpstreamProtocol(f"upstream response body exceeded {limit} bytes")
            parts.append(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._pool.release(conn)

    async def _next(self) -> bytes:
        """The next piece of the body; b"" at its end (the connection goes back to the pool)."""
        conn = self._conn
        while conn is not None:
            chunk = conn.take()
            if chunk:
                return chunk
            if conn.complete:
                await self.aclose()
                return b""
            if conn.error is not None:
                raise failure(conn, "reading the response")
            try:
                await conn.wait(self._timeout)
            except TimeoutError:
                raise timed_out("reading the response") from None
        return b""


class _Body:
    __slots__ = ("_response",)

    def __init__(self, response: LeanResponse) -> None:
        self._response = response

    def __aiter__(self) -> _Body:
        return self

    async def __anext__(self) -> bytes:
        chunk = await self._response._next()
        if not chunk:
            raise StopAsyncIteration
        return chunk


def keep_seconds(headers: Headers) -> float:
    """How long an idle connection may be reused: KEEPALIVE_SECONDS, or less when the upstream
    announced `Keep-Alive: timeout=N` (a second early: its close must not cross our next POST,
    which is never sent twice)."""
    announced = find_header(headers, "keep-alive")
    if announced:
        for part in announced.split(","):
            name, _, value = part.strip().partition("=")
            if name.strip().lower() == "timeout" and value.strip().isdigit():
                return min(KEEPALIVE_SECONDS, int(value.strip()) - KEEP_MARGIN)
    return KEEPALIVE_SECONDS


class Pool:
    """Idle connections per origin, newest last; a connection is reused only when its previous
    response was read whole and allowed keep-alive."""

    def __init__(self) -> None:
        self.idle: dict[Origin, list[Http1Connection]] = {}

    def acquire(self, origin: Origin) -> Http1Connection | None:
        conns = self.idle.get(origin)
        now = time.monotonic()
        while conns:
            conn = conns.pop()
            conn.on_idle_lost = None
            alive = conn.transport is not None and not conn.transport.is_closing()
            if alive and now < conn.idle_until:
                return conn
            conn.close()
        return None

    def release(self, conn: Http1Connection) -> None:
        conns = self.idle.setdefault(conn.origin, [])
        if not conn.reusable() or len(conns) >= IDLE_PER_ORIGIN:
            conn.close()
            return
        keep = keep_seconds(conn.headers)
        if keep <= 0:
            conn.close()
            return
        conn.busy = False
        now = time.monotonic()
        conn.idle_until = now + keep
        conn.on_idle_lost = self._lost
        conns.append(conn)
        if conns[0].idle_until <= now:
            conns.pop(0).close()  # one stale connection retired per release

    def _lost(self, conn: Http1Connection) -> None:
        conns = self.idle.get(conn.origin)
        if conns and conn in conns:
            conns.remove(conn)

    def close(self) -> None:
        idle, self.idle = self.idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.on_idle_lost = None
                conn.close()


class LeanTransport:
    """Direct http/https channels through `Pool`; proxied ones (and odd URLs) via `proxied`."""

    def __init__(self, proxied: Transport, ssl_context: ssl.SSLContext | None = None) -> None:
        self._proxied = proxied
        self._ssl = ssl_context or ssl.create_default_context()
        self._pool = Pool()
        # a burst of new connections waits its turn rather than overflowing the upstream's
        # accept backlog (5,000 streams at once failed to connect without this)
        self._connecting = asyncio.Semaphore(CONNECTS_AT_ONCE)
        self._urls: dict[str, tuple[Origin, bytes] | None] = {}

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        target = None if request.proxy_url or request.method == "HEAD" else self._target(request)
        if target is None:
            return await self._proxied.send(request)
        origin, start = target
        data = _encode(request, start)
        conn = self._pool.acquire(origin)
        if conn is not None:
            try:
                return await self._exchange(conn, data, request)
            except UpstreamConnect:
                if conn.sent and request.method not in IDEMPOTENT:
                    raise  # the upstream may have acted on it: never sent twice
        conn = await self._connect(origin, request)
        return await self._exchange(conn, data, request)

    async def aclose(self) -> None:
        self._pool.close()
        await self._proxied.aclose()

    async def _exchange(
        self, conn: Http1Connection, data: bytes, request: UpstreamRequest
    ) -> LeanResponse:
        conn.begin(data)
        try:
            while not conn.headers_done:
                if conn.error is not None:
                    raise failure(conn, "connecting")
                await conn.wait(request.read_timeout)
        except TimeoutError:
            conn.close()
            raise timed_out("connecting") from None
        except BaseException:
            conn.close()
            raise
        return LeanResponse(conn, self._pool, request.read_timeout)

    async def _connect(self, origin: Origin, request: UpstreamRequest) -> Http1Connection:
        scheme, host, port = origin
        tls = scheme == "https"
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(request.connect_timeout), self._connecting:
                _, conn = await loop.create_connection(
                    lambda: Http1Connection(loop, origin),
                    host,
                    port,
                    ssl=self._ssl if tls else None,
                    server_hostname=host if tls else None,
                )
        except TimeoutError:  # no byte sent: nothing the upstream can bill
            raise UpstreamConnect("upstream connection timed out while connecting") from None
        except (OSError, ssl.SSLError) as exc:
            text = scrub(
                f"{type(exc).__name__}: cannot connect to {host}:{port}: {exc}", request.secrets
            )
            raise UpstreamConnect(f"upstream connection failed while connecting: {text}") from exc
        return conn

    def _target(self, request: UpstreamRequest) -> tuple[Origin, bytes] | None:
        """(origin, request line and Host header) for an http(s) URL; None hands it to aiohttp."""
        url = request.url
        if url in self._urls:
            target = self._urls[url]
        else:
            target = _parse(url)
            if len(self._urls) >= _URL_CACHE_SIZE:
                self._urls.clear()
            self._urls[url] = target
        return target if target is None else (target[0], request.method.encode() + target[1])


def _parse(url: str) -> tuple[Origin, bytes] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        return None
    default = 443 if parts.scheme == "https" else 80
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    if port is not None and port != default:
        shown += f":{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if any(c in path for c in " \r\n") or any(c in shown for c in " \r\n"):
        return None
    line = f" {path} HTTP/1.1\r\nHost: {shown}\r\n"
    return (parts.scheme, host, port or default), line.encode()


def _encode(request: UpstreamRequest, start: bytes) -> bytes:
    lines = [f"{name}: {value}\r\n" for name, value in request.headers]
    if request.body or request.method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(request.body)}\r\n")
    if find_header(request.headers, "accept") is None:
        lines.append("Accept: */*\r\n")
    text = "".join(lines)
    if text.count("\n") != len(lines) or text.count("\r") != len(lines):
        raise UpstreamConnect("invalid upstream request: a header holds a line break")
    return start + text.encode() + b"\r\n" + request.body
