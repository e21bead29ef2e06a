"""A lean HTTP/1.1 load client (raw asyncio protocol on uvloop) for thousands of paced streams.

aiohttp costs tens of µs per event on the load core, which shares its CPU with the upstream;
this client only appends bytes and checks the end of the response, so the load side can carry
thousands of concurrent streams. One connection per `Conn`, kept alive across requests.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import orjson
import shapes

HEADER_END = b"\r\n\r\n"
CHUNKED_END = b"\r\n0\r\n\r\n"
# a connection idle this long is replaced before use, as a client's pool does (aiohttp keeps
# 15 s, httpx 5 s): well under the gateway's 75 s keep-alive (uvicorn closes it then), so a
# request never goes out on a connection the server is closing or has closed
REUSE_IDLE_S = 30.0


TOKEN = re.compile(rb"tok(\d+) ")  # the text of each content event (bench/shapes.py)


def tokens(body: bytes) -> list[int]:
    """The numbers of the `tokN ` texts in `body`, in order: a gateway may join the texts of
    events it read together into one event, so the texts are counted, not the events."""
    return [int(n) for n in TOKEN.findall(body)]


def dechunked(body: bytes) -> bytes:
    """The payload of a chunked body (ValueError on a malformed size line)."""
    parts, pos = [], 0
    while (end := body.find(b"\r\n", pos)) >= 0:
        size = int(body[pos:end].split(b";")[0], 16)
        if size == 0:
            break
        parts.append(body[end + 2 : end + 2 + size])
        pos = end + 2 + size + 2
    return b"".join(parts)


@dataclass(frozen=True)
class Call:
    """A request to send and how to tell a complete, valid answer."""

    raw: bytes
    events: int = 0  # `tokN ` texts expected in the body, N from 0 (0: a non-stream answer)
    end: bytes = b""  # the body must contain this (the format's final event)


@dataclass
class Answer:
    status: int = 0
    sent: float = 0.0
    first_byte: float = 0.0  # response head arrived
    first_event: float = 0.0  # first `data:` of the body arrived
    done: float = 0.0
    body: bytearray = field(default_factory=bytearray)
    error: str = ""
    chunked: bool = False

    def ok(self, call: Call) -> bool:
        if self.error or self.status != 200:
            return False
        if not call.events:
            return True
        try:
            body = self.content()
        except ValueError:  # a malformed chunk size
            return False
        return tokens(body) == list(range(call.events)) and call.end in body

    def content(self) -> bytes:
        """The body without its chunk framing: a proxy that re-chunks what it buffered (nginx)
        may cut a `tokN ` text in two, so the texts are counted in what the chunks carry."""
        body = bytes(self.body)
        return dechunked(body) if self.chunked else body

    @property
    def total_ms(self) -> float:
        return (self.done - self.sent) * 1000

    @property
    def ttfb_ms(self) -> float:
        return (self.first_event - self.sent) * 1000


class Conn(asyncio.Protocol):
    """One keep-alive connection; `send` answers one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.answer = Answer()
        self.waiter: asyncio.Future[Answer] | None = None
        self.head_len = -1
        self.length = -1  # Content-Length, -1 = chunked
        self.idle_since = time.monotonic()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def reusable(self) -> bool:
        """Open, not closing, and idle for less than REUSE_IDLE_S."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return False
        return time.monotonic() - self.idle_since < REUSE_IDLE_S

    def send(self, raw: bytes) -> asyncio.Future[Answer]:
        assert self.transport is not None
        self.buffer.clear()
        self.answer = Answer(sent=time.perf_counter())
        self.head_len, self.length = -1, -1
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return self.waiter

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        answer = self.answer
        if self.head_len < 0:
            end = buf.find(HEADER_END)
            if end < 0:
                return
            answer.first_byte = time.perf_counter()
            self._head(bytes(buf[:end]))
            self.head_len = end + 4
        if not answer.first_event and buf.find(b"data:", self.head_len) >= 0:
            answer.first_event = time.perf_counter()
        if self.length >= 0:
            if len(buf) - self.head_len >= self.length:
                self._finish()
        elif buf.endswith(CHUNKED_END) or buf[self.head_len :] == b"0\r\n\r\n":
            self._finish()

    def _head(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        self.answer.status = int(lines[0].split()[1])
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                self.length = int(value.strip())

    def _finish(self) -> None:
        answer = self.answer
        answer.done = time.perf_counter()
        answer.first_event = answer.first_event or answer.done
        answer.body = self.buffer[self.head_len :]
        answer.chunked = self.length < 0
        self.buffer = bytearray()
        self.idle_since = time.monotonic()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(answer)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.waiter is not None and not self.waiter.done():
            self.answer.error = f"connection lost: {exc!r}"
            self.answer.done = time.perf_counter()
            self.waiter.set_result(self.answer)


async def connect(port: int, count: int) -> list[Conn]:
    loop = asyncio.get_running_loop()
    conns: list[Conn] = []
    for _ in range(count):
        _, proto = await loop.create_connection(Conn, "127.0.0.1", port)
        conns.append(proto)
    return conns


async def kept_alive(conn: Conn, port: int) -> Conn:
    """`conn` when it may carry another request, else a new connection in its place (the server
    closes a keep-alive connection idle for its timeout: 75 s on the gateway)."""
    if conn.reusable():
        return conn
    close([conn])
    [fresh] = await connect(port, 1)
    return fresh


def close(conns: list[Conn]) -> None:
    for conn in conns:
        if conn.transport is not None:
            conn.transport.close()


async def ask(conn: Conn, call: Call, seconds: float) -> Answer:
    if conn.transport is None or conn.transport.is_closing():
        return Answer(error="connection closed")
    try:
        return await asyncio.wait_for(conn.send(call.raw), seconds)
    except TimeoutError:
        conn.transport.close()
        return Answer(error="timed out", status=conn.answer.status)


def _raw(path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def openai_call(key: str, model: str, events: int, pace_ms: int, *, burst: bool = False) -> Call:
    """An OpenAI Chat streaming request for a `bench:` stream (content events + [DONE])."""
    body = orjson.dumps(
        {
            "model": model,
            "messages": [{"role": "user", "content": shapes.marker(events, pace_ms, burst=burst)}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    )
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    return Call(_raw("/v1/chat/completions", headers, body), events, b"[DONE]")


def anthropic_call(key: str, model: str, events: int, pace_ms: int, *, burst: bool = False) -> Call:
    """An Anthropic Messages streaming request for a `bench:` stream."""
    body = orjson.dumps(
        {
            "model": model,
            "max_tokens": 1024,
            "messages": [{"role": "user", "content": shapes.marker(events, pace_ms, burst=burst)}],
            "stream": True,
        }
    )
    headers = {
        "Content-Type": "application/json",
        "x-api-key": key,
        "anthropic-version": "2023-06-01",
    }
    return Call(_raw("/v1/messages", headers, body), events, b"message_stop")


def plain_call(key: str, model: str) -> Call:
    """A small non-stream OpenAI Chat request."""
    body = orjson.dumps({"model": model, "messages": [{"role": "user", "content": "Say hello."}]})
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    return Call(_raw("/v1/chat/completions", headers, body))


Build = Callable[[str, int, int, bool], Call]  # (key, events, pace ms, burst) -> Call


def _path(name: str, who: str, ask: Callable[..., Call], model: str) -> tuple[str, str, Build]:
    return name, who, lambda key, n, pace, burst: ask(key, model, n, pace, burst=burst)


# the paths whose cost per event the bench measures: (name, targets that serve it, call)
PATHS: tuple[tuple[str, str, Build], ...] = (
    _path("passthrough (OpenAI → OpenAI)", "all", openai_call, "bench-model"),
    _path("Anthropic client → OpenAI channel", "gateway", anthropic_call, "bench-model"),
    _path("OpenAI client → Anthropic channel", "gateway", openai_call, "bench-anthropic"),
    _path("OpenAI client → Gemini channel", "gateway", openai_call, "bench-gemini"),
)
