"""Transport seam: one upstream HTTP exchange, independent of the client library behind it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

Headers = Sequence[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    """What to send; seconds; `read_timeout` bounds the wait for headers and for each read."""

    method: str
    url: str
    headers: Headers = ()
    body: bytes = b""
    proxy_url: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 300.0
    secrets: tuple[str, ...] = field(default=(), repr=False)  # scrubbed from error messages


Sink = Callable[[bytes], bool]  # takes a body piece; True: stop pushing for now (client is slow)


class UpstreamResponse(Protocol):
    """A response whose headers have arrived; the body is read once, whole or in chunks."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Headers: ...

    def header(self, name: str) -> str | None:
        """First value of a header, case-insensitive."""
        ...

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        """Chunks as they arrive; raises UpstreamConnect / UpstreamTimeout on failure."""
        ...

    async def read(self, limit: int | None = None) -> bytes:
        """The whole body; UpstreamProtocol when it exceeds `limit`."""
        ...

    async def push(self, sink: Sink) -> bool:
        """The rest of the body into `sink`, piece by piece: True at its end, False when the
        sink returned True (pause: call again to go on). Raises as `aiter_bytes` does."""
        ...

    async def aclose(self) -> None: ...


class Transport(Protocol):
    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        """Send and wait for the response headers; raises UpstreamConnect / UpstreamTimeout."""
        ...

    async def aclose(self) -> None: ...


def find_header(headers: Headers, name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return None


def scrub(text: str, secrets: Sequence[str]) -> str:
    """Remove credentials from text that may reach logs or clients."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def scrub_bytes(data: bytes, secrets: Sequence[str]) -> bytes:
    """`scrub` for raw bodies (an upstream error page that echoes the key it was sent)."""
    for secret in secrets:
        if secret and len(secret) >= 4 and secret.encode() in data:
            data = data.replace(secret.encode(), b"***")
    return data
