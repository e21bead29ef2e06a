"""A lean RESP2 client for the request-path scripts, with automatic pipelining.

redis-py's asyncio client costs about 50 µs of CPU per command; this one writes every command
issued in one event-loop iteration with a single `transport.write` and matches the replies, in
order, to their futures. `send` gives a command a deadline: one timer per connection sweeps the
late ones (TimeoutError), instead of a timer per call; `execute` and scripts called as
coroutines are bounded by their caller (`RedisLink.call`). A lost or stuck connection fails
every pending call with `ConnectionError` (the link's Redis failure); the next call connects
again. TLS and URL options other than the database stay on redis-py.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections import deque
from collections.abc import Awaitable, Sequence
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from redis.exceptions import NoScriptError, ResponseError

Arg = str | int | float | bytes
CONNECT_TIMEOUT = 1.0
STUCK_SECONDS = 2.0  # no reply byte for this long while calls wait: the connection is dropped
_INCOMPLETE = -1


class LeanRedis:
    """One pipelined connection, made on the first call and again after a loss."""

    def __init__(
        self, place: tuple[str, int] | str, db: int = 0, auth: tuple[str, ...] = ()
    ) -> None:
        self._place = place  # (host, port), or a unix socket's path
        self._hello: list[tuple[Arg, ...]] = [(b"AUTH", *auth)] if auth else []
        if db:
            self._hello.append((b"SELECT", db))
        self._conn: _Connection | None = None
        self._connecting: asyncio.Task[_Connection] | None = None

    async def execute(self, *args: Arg) -> Any:
        conn = self._conn
        if conn is None or conn.closed or conn.stuck():
            conn = await self._connected()
        return await conn.send(encode(args))

    def send(self, command: bytes, limit: float) -> asyncio.Future[Any] | None:
        """`command` goes out with this iteration's others; its reply fails with TimeoutError
        after `limit` seconds. None when no connection is ready: the caller takes `execute`."""
        conn = self._conn
        if conn is None or conn.closed or conn.stuck():
            return None
        return conn.send(command, limit)

    async def eval(self, script: Script, keys: Sequence[Arg], args: Sequence[Arg]) -> Any:
        """EVALSHA, and EVAL when Redis has not cached the script (a restart, SCRIPT FLUSH)."""
        try:
            return await self.execute(b"EVALSHA", script.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await script.whole(keys, args)

    def script(self, body: str) -> Script:
        return Script(self, body)

    async def close(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
        if self._conn is not None:
            self._conn.abort()

    async def _connected(self) -> _Connection:
        if self._conn is not None:
            self._conn.abort()  # a stuck one: its pending calls fail now
            self._conn = None
        if self._connecting is None or self._connecting.done():
            self._connecting = asyncio.ensure_future(self._connect())
        # shielded: a caller's timeout must not cancel the connection the others wait for
        conn = await asyncio.shield(self._connecting)
        self._conn = conn
        return conn

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        place = self._place
        made = (
            loop.create_unix_connection(_Connection, place)
            if isinstance(place, str)
            else loop.create_connection(_Connection, *place)
        )
        _, conn = await asyncio.wait_for(made, CONNECT_TIMEOUT)
        try:
            for command in self._hello:
                await asyncio.wait_for(conn.send(encode(command)), CONNECT_TIMEOUT)
        except BaseException:
            conn.abort()
            raise
        return conn


class Script:
    """A Lua script run through `LeanRedis.eval`: `await script(keys, args)`; or sent at once
    with `client.send(script.evalsha(keys, args), limit)`."""

    def __init__(self, client: LeanRedis, body: str) -> None:
        self.client = client
        self.body = body
        self.sha = hashlib.sha1(body.encode()).hexdigest()  # noqa: S324 - Redis names scripts so
        self._evalsha = b"$7\r\nEVALSHA\r\n$40\r\n" + self.sha.encode() + b"\r\n"

    def __call__(self, keys: Sequence[Arg], args: Sequence[Arg]) -> Awaitable[Any]:
        return self.client.eval(self, keys, args)

    def whole(self, keys: Sequence[Arg], args: Sequence[Arg]) -> Awaitable[Any]:
        """EVAL: the body itself, which Redis caches again (after a restart, SCRIPT FLUSH)."""
        return self.client.execute(b"EVAL", self.body, len(keys), *keys, *args)

    def evalsha(self, keys: Sequence[Arg], args: Sequence[Arg]) -> bytes:
        """The EVALSHA command, encoded (its fixed part once, at construction)."""
        head = b"*%d\r\n" % (3 + len(keys) + len(args)) + self._evalsha
        return head + _bulks((len(keys), *keys, *args))


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._deadlines: dict[asyncio.Future[Any], float] = {}  # loop time, of bounded calls
        self._sweep: asyncio.TimerHandle | None = None
        self._sweep_at = math.inf
        self._out: list[bytes] = []
        self._buffer = b""
        self._heard = time.monotonic()  # last reply byte, or when a call began to wait
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # a stream connection's transport

    def send(self, command: bytes, limit: float | None = None) -> asyncio.Future[Any]:
        """The reply's future; with `limit`, it fails with TimeoutError after that long."""
        if self.closed:
            raise ConnectionError("redis connection closed")
        future = self._loop.create_future()
        if not self._waiting:
            self._heard = time.monotonic()
        self._waiting.append(future)
        if not self._out:  # the first of this iteration: one write for all of them
            self._loop.call_soon(self._flush)
        self._out.append(command)
        if limit is not None:
            deadline = self._deadlines[future] = self._loop.time() + limit
            if deadline < self._sweep_at:
                self._arm(deadline)
        return future

    def _arm(self, deadline: float) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
        self._sweep_at = deadline
        self._sweep = self._loop.call_at(deadline, self._expire)

    def _expire(self) -> None:
        """Fail the calls past their deadline; wake again at the next one (one timer in all)."""
        self._sweep, self._sweep_at = None, math.inf
        now, late = self._loop.time(), TimeoutError("redis call timed out")
        next_at = math.inf
        for future, deadline in list(self._deadlines.items()):
            if future.done():
                del self._deadlines[future]
            elif deadline <= now:
                del self._deadlines[future]
                future.set_exception(late)
            else:
                next_at = min(next_at, deadline)
        if next_at < math.inf:
            self._arm(next_at)

    def stuck(self) -> bool:
        return bool(self._waiting) and time.monotonic() - self._heard > STUCK_SECONDS

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()
        self._fail(ConnectionError("redis connection dropped"))

    def _flush(self) -> None:
        if self.closed or self._transport is None:
            return
        self._transport.write(b"".join(self._out))
        self._out.clear()

    def data_received(self, data: bytes) -> None:
        self._heard = time.monotonic()
        buffer = self._buffer + data if self._buffer else data
        pos = 0
        while pos < len(buffer):
            try:
                reply, end = parse(buffer, pos)
            except ValueError:
                self.abort()
                return
            if end == _INCOMPLETE:
                break
            pos = end
            self._answer(reply)
        self._buffer = buffer[pos:]

    def _answer(self, reply: Any) -> None:
        if not self._waiting:
            self.abort()  # a reply nobody asked for: the stream is out of step
            return
        future = self._waiting.popleft()
        if self._deadlines:
            self._deadlines.pop(future, None)
        if future.done():  # its caller gave up (timeout, cancelled request)
            return
        if isinstance(reply, ResponseError):
            future.set_exception(reply)
        else:
            future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError("redis connection lost"))

    def _fail(self, error: Exception) -> None:
        self.closed = True
        self._out.clear()
        self._deadlines.clear()
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep, self._sweep_at = None, math.inf
        waiting, self._waiting = self._waiting, deque()
        for future in waiting:
            if not future.done():
                future.set_exception(error)


class Bulk(bytes):
    """An argument already encoded as a RESP bulk string: names and numbers sent on every call
    are encoded once (`bulk`) and copied as they are."""


def bulk(arg: Arg) -> Bulk:
    raw = arg if isinstance(arg, bytes) else str(arg).encode()
    return Bulk(b"$%d\r\n%s\r\n" % (len(raw), raw))


def encode(args: Sequence[Arg]) -> bytes:
    """A RESP array of bulk strings; numbers as their decimal text, like redis-py."""
    return b"*%d\r\n" % len(args) + _bulks(args)


def _bulks(args: Sequence[Arg]) -> bytes:
    parts: list[bytes] = []
    for arg in args:
        if type(arg) is Bulk:
            parts.append(arg)
            continue
        raw = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(parts)


def parse(buffer: bytes, pos: int) -> tuple[Any, int]:
    """One reply from `pos`: (value, end), or (None, _INCOMPLETE) until more bytes arrive."""
    line_end = buffer.find(b"\r\n", pos)
    if line_end < 0:
        return None, _INCOMPLETE
    kind, head, after = buffer[pos], buffer[pos + 1 : line_end], line_end + 2
    if kind == 58:  # : integer, the request-path scripts' usual answer
        return int(head), after
    if kind == 36:  # $ bulk string
        return _bulk(buffer, int(head), after)
    if kind == 42:  # * array
        return _array(buffer, int(head), after)
    return _line(kind, head), after


def _line(kind: int, head: bytes) -> Any:
    if kind == 43:  # + simple string
        return head
    if kind == 45:  # - error
        return _error(head.decode(errors="replace"))
    raise ValueError(f"not a RESP2 reply: {bytes([kind])!r}")


def _bulk(buffer: bytes, size: int, pos: int) -> tuple[Any, int]:
    if size < 0:
        return None, pos
    if len(buffer) < pos + size + 2:
        return None, _INCOMPLETE
    return buffer[pos : pos + size], pos + size + 2


def _array(buffer: bytes, count: int, pos: int) -> tuple[Any, int]:
    if count < 0:
        return None, pos
    items = []
    for _ in range(count):
        item, pos = parse(buffer, pos)
        if pos == _INCOMPLETE:
            return None, _INCOMPLETE
        items.append(item)
    return items, pos


def _error(text: str) -> ResponseError:
    return NoScriptError(text) if text.startswith("NOSCRIPT") else ResponseError(text)


def lean_client(url: str) -> LeanRedis | None:
    """The lean client for `redis://host:port/db` and `unix://path?db=n` URLs; None for the
    others (TLS, other options): those stay on redis-py."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return _unix(parts.path, parts.query)
    if parts.scheme != "redis" or parts.query or not parts.hostname:
        return None
    path = parts.path.strip("/")
    if path and not path.isdigit():
        return None
    if parts.username and not parts.password:
        return None  # a user without a password: left to redis-py's reading of it
    auth = tuple(unquote(p) for p in (parts.username, parts.password) if p)
    return LeanRedis((parts.hostname, parts.port or 6379), int(path or 0), auth)


def _unix(path: str, query: str) -> LeanRedis | None:
    options = dict(parse_qsl(query))
    db = options.pop("db", "0")
    if options or not path or not db.isdigit():
        return None
    return LeanRedis(path, int(db))
