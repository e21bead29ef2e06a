"""The seams: Codec, StreamDecoder, StreamEncoder and UsageTap Protocols (one codec per format)."""

from __future__ import annotations

from typing import Protocol

from octopus.errors import GatewayError, UpstreamStatus
from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from octopus.protocols.canonical import Loss
from octopus.protocols.formats import WireFormat
from octopus.protocols.sse import SseEvent


class StreamDecoder(Protocol):
    """Provider or client SSE events in, canonical events out; close() ends the grammar."""

    def feed(self, event: SseEvent) -> list[ev.Event]: ...

    def close(self) -> list[ev.Event]: ...


class StreamEncoder(Protocol):
    """Canonical events in, SSE events out; close() always finishes the client's stream.

    `losses` collects what the encoder had to drop (opaque reasoning from another format).
    """

    losses: list[Loss]

    def feed(self, event: ev.Event) -> list[SseEvent]: ...

    def text_wire(self, event: ev.TextDelta) -> bytes | None:
        """The wire bytes `encode_events(feed(event))` gives for the usual text delta, made in
        one fill (a stream's most frequent event); None for any other: feed that one."""
        ...

    def text_frame(self, index: int) -> tuple[bytes, bytes] | None:
        """What `text_wire` puts around a text's JSON string for a delta of block `index`, as
        long as nothing else is fed; None when it would not fill a slot (relay/fastsink.py)."""
        ...

    def close(self) -> list[SseEvent]: ...


class UsageTap(Protocol):
    """Watches a passthrough stream and keeps the latest usage it saw."""

    usage: c.Usage | None

    def feed(self, event: SseEvent) -> None: ...


class Codec(Protocol):
    @property
    def format(self) -> WireFormat: ...

    def decode_request(
        self, body: bytes, *, model: str | None = None, stream: bool | None = None
    ) -> c.CanonRequest: ...

    def encode_request(self, req: c.CanonRequest, losses: list[Loss]) -> bytes: ...

    def decode_response(self, body: bytes) -> c.CanonResponse: ...

    def encode_response(self, resp: c.CanonResponse, losses: list[Loss]) -> bytes: ...

    def stream_decoder(self) -> StreamDecoder: ...

    def stream_encoder(self, model: str, *, include_usage: bool = True) -> StreamEncoder: ...

    def encode_error(self, err: GatewayError) -> tuple[int, bytes]: ...

    def encode_stream_error(self, err: GatewayError) -> list[SseEvent]: ...

    def decode_error(
        self, status: int, body: bytes, retry_after: float | None = None
    ) -> UpstreamStatus: ...

    def keepalive(self) -> bytes: ...

    def usage_from_response(self, body: bytes) -> c.Usage | None: ...

    def usage_tap(self) -> UsageTap: ...

    def first_event_error(self, event: SseEvent) -> GatewayError | None: ...

    @property
    def features(self) -> frozenset[str]: ...


__all__ = ["Codec", "Loss", "StreamDecoder", "StreamEncoder", "UsageTap"]
