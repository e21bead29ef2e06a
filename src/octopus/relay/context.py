"""Per-request values shared by the relay modules: the inbound request, the responder seam."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from octopus.protocols import WireFormat
from octopus.routing.catalog import ApiKey

HeaderList = list[tuple[str, str]]


class Operation(Enum):
    """What the client asks for; the endpoint decides it."""

    GENERATE = "generate"
    EMBED = "embed"  # OpenAI /v1/embeddings, Gemini :embedContent
    BATCH_EMBED = "batch_embed"  # Gemini :batchEmbedContents


@dataclass(frozen=True, slots=True)
class ClientRequest:
    """An authenticated-to-be client call as the web layer parsed it.

    `headers` has lower-case names. For Gemini the model and the stream flag come from the URL
    (`path_model`, `path_stream`); other formats carry them in the body.
    """

    format: WireFormat
    body: bytes
    api_key: str = field(repr=False)
    headers: Mapping[str, str] = field(default_factory=dict)
    path_model: str | None = None
    path_stream: bool | None = None
    key: ApiKey | None = field(default=None, repr=False)  # already authenticated by the web layer
    operation: Operation = Operation.GENERATE


class DirectWriter(Protocol):
    """Synchronous body writes for a started streamed answer (no coroutine per event)."""

    def write(self, chunk: bytes) -> bool:
        """Write one piece; True when the client's buffer is full (`drain` before more)."""
        ...

    async def drain(self) -> None: ...

    def wire(self) -> tuple[object, Callable[[bytes], object], object] | None:
        """For the compiled sink (relay/fastsink.py): the connection's cycle (its
        `disconnected`), its transport's `write` and its flow control (`write_paused`), when
        the writer frames chunks as `write` does; None when it cannot be bypassed."""
        ...


class Responder(Protocol):
    """Where the client's answer goes; the first `start` is the commit point."""

    @property
    def started(self) -> bool: ...

    @property
    def direct(self) -> DirectWriter | None:
        """After `start`: synchronous writes when the server offers them, else None."""
        ...

    async def start(self, status: int, headers: HeaderList) -> None: ...

    async def write(self, chunk: bytes) -> None: ...

    async def end(self, chunk: bytes = b"") -> None: ...
