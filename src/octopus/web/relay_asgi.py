"""Raw ASGI plumbing for the relay routes: headers, body reading, the responder, disconnects."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

from octopus.errors import BadRequest, PayloadTooLarge
from octopus.web.direct import DirectBody

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(slots=True)
class Inbound:
    """A relay request as the server parsed it; `receive` gives its body as ASGI messages."""

    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names; a repeated header keeps its first value
    receive: Receive


def inbound_of(scope: Scope, receive: Receive) -> Inbound:
    query = scope.get("query_string", b"").decode("latin-1")
    return Inbound(scope["method"], scope["path"], query, header_map(scope), receive)


class WebResponder(Protocol):
    """The relay's Responder as the web layer drives it (AsgiResponder, native.CycleResponder)."""

    @property
    def started(self) -> bool: ...

    @property
    def finished(self) -> bool: ...

    @property
    def direct(self) -> DirectBody | None: ...

    @property
    def connection(self) -> DirectBody | None: ...

    async def start(self, status: int, headers: list[tuple[str, str]]) -> None: ...

    async def write(self, chunk: bytes) -> None: ...

    async def end(self, chunk: bytes = b"") -> None: ...

    async def json(
        self, status: int, body: bytes, extra: list[tuple[str, str]] | None = None
    ) -> None: ...


def header_map(scope: Scope) -> dict[str, str]:
    """Request headers with lower-case names; repeated headers keep the first value."""
    out: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        if name not in out:
            out[name] = raw_value.decode("latin-1")
    return out


def api_key_of(headers: dict[str, str], query: str) -> str:
    """The client key from Bearer, x-api-key, x-goog-api-key or `?key=`."""
    bearer = headers.get("authorization", "")
    if bearer[:7].lower() == "bearer ":
        return bearer[7:].strip()
    for name in ("x-api-key", "x-goog-api-key"):
        if headers.get(name):
            return headers[name].strip()
    for pair in query.split("&"):
        if pair.startswith("key="):
            return pair[4:]
    return ""


async def read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    """The whole request body, capped while reading: Content-Length first, then a running count.

    The content type is not checked: a body that parses as JSON is accepted whatever it says
    (`curl -d` sends form encoding); the parser answers 400 for anything else.
    """
    declared = headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body is larger than the {limit} byte limit")
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise asyncio.CancelledError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body is larger than the {limit} byte limit")
        parts.append(chunk)
        if not message.get("more_body", False):
            break
    body = parts[0] if len(parts) == 1 else b"".join(parts)
    if not body:
        raise BadRequest("request body is empty; a JSON object is required")
    return body


def _encode_headers(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("utf-8", "surrogateescape")) for k, v in headers]


class ServerResponder:
    """What every responder of the web layer shares: the server's connection view (when it
    offers one), the direct writer over it, and JSON answers in one start and end."""

    __slots__ = ("_body", "finished", "started")

    def __init__(self, body: DirectBody | None) -> None:
        self._body = body
        self.started = False
        self.finished = False

    @property
    def direct(self) -> DirectBody | None:
        body = self._body
        return body if body is not None and body.usable() else None

    @property
    def connection(self) -> DirectBody | None:
        """The server's view of this request's connection, when it offers one."""
        return self._body

    async def start(self, status: int, headers: list[tuple[str, str]]) -> None:
        raise NotImplementedError

    async def end(self, chunk: bytes = b"") -> None:
        raise NotImplementedError

    async def json(
        self, status: int, body: bytes, extra: list[tuple[str, str]] | None = None
    ) -> None:
        await self.start(status, json_headers(body, extra))
        await self.end(body)


class AsgiResponder(ServerResponder):
    """The relay's Responder over ASGI `send`; one body message per chunk, or direct writes
    when the server offers them (web/direct.py)."""

    __slots__ = ("_send",)

    def __init__(self, send: Send, body: DirectBody | None = None) -> None:
        super().__init__(body)
        self._send = send

    async def start(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.started = True
        await self._send(
            {"type": "http.response.start", "status": status, "headers": _encode_headers(headers)}
        )

    async def write(self, chunk: bytes) -> None:
        if chunk:
            await self._send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def end(self, chunk: bytes = b"") -> None:
        self.finished = True
        await self._send({"type": "http.response.body", "body": chunk, "more_body": False})


def json_headers(body: bytes, extra: list[tuple[str, str]] | None) -> list[tuple[str, str]]:
    headers = [("content-type", "application/json"), ("content-length", str(len(body)))]
    return headers + extra if extra else headers


class DisconnectWatch:
    """Cancels the handling task when the client goes away before the answer is complete.

    Told by the server's protocol when it offers that (web/direct.py); otherwise a task waits on
    ASGI `receive` for `http.disconnect`."""

    def __init__(self, receive: Receive, responder: WebResponder) -> None:
        self.fired = False
        self._responder = responder
        self._receive = receive
        self._task = asyncio.current_task()
        self._watcher: asyncio.Task[None] | None = None

    def __enter__(self) -> DisconnectWatch:
        connection = self._responder.connection
        if connection is not None:
            connection.on_lost = self._lost
        else:
            self._watcher = asyncio.get_running_loop().create_task(self._watch())
        return self

    def __exit__(self, *exc: object) -> None:
        connection = self._responder.connection
        if connection is not None:
            connection.on_lost = None
        if self._watcher is not None:
            self._watcher.cancel()

    async def _watch(self) -> None:
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                break
        self._lost()

    def _lost(self) -> None:
        if not self._responder.finished and self._task is not None:
            self.fired = True
            self._task.cancel()
