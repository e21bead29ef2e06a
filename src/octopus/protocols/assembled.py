"""WireCodec: a Codec assembled from a wire package's request, response and error modules.

Every wire package exposes the same module functions; this one class turns them into the
`Codec` interface, so the four packages declare what they are instead of repeating delegation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from octopus.errors import GatewayError, UpstreamStatus
from octopus.protocols import canonical as c
from octopus.protocols.codec import StreamDecoder, StreamEncoder, UsageTap
from octopus.protocols.formats import WireFormat
from octopus.protocols.sse import SseEvent


class RequestModule(Protocol):
    def decode_request(
        self, body: bytes, *, model: str | None = ..., stream: bool | None = ...
    ) -> c.CanonRequest: ...

    def encode_request(self, req: c.CanonRequest, losses: list[c.Loss]) -> bytes: ...


class ResponseModule(Protocol):
    def decode_response(self, body: bytes) -> c.CanonResponse: ...

    def encode_response(self, resp: c.CanonResponse, losses: list[c.Loss]) -> bytes: ...

    def usage_from_response(self, body: bytes) -> c.Usage | None: ...


class ErrorModule(Protocol):
    def encode_error(self, err: GatewayError) -> tuple[int, bytes]: ...

    def encode_stream_error(self, err: GatewayError) -> list[SseEvent]: ...

    def decode_error(
        self, status: int, body: bytes, retry_after: float | None = ...
    ) -> UpstreamStatus: ...

    def first_event_error(self, event: SseEvent) -> GatewayError | None: ...


class EncoderFactory(Protocol):
    def __call__(self, model: str, *, include_usage: bool = True) -> StreamEncoder: ...


@dataclass(frozen=True, slots=True)
class WireCodec:
    format: WireFormat
    features: frozenset[str]
    requests: RequestModule
    responses: ResponseModule
    errors: ErrorModule
    decoder: Callable[[], StreamDecoder]
    encoder: EncoderFactory
    tap: Callable[[], UsageTap]
    keepalive_bytes: bytes

    def decode_request(
        self, body: bytes, *, model: str | None = None, stream: bool | None = None
    ) -> c.CanonRequest:
        return self.requests.decode_request(body, model=model, stream=stream)

    def encode_request(self, req: c.CanonRequest, losses: list[c.Loss]) -> bytes:
        return self.requests.encode_request(req, losses)

    def decode_response(self, body: bytes) -> c.CanonResponse:
        return self.responses.decode_response(body)

    def encode_response(self, resp: c.CanonResponse, losses: list[c.Loss]) -> bytes:
        return self.responses.encode_response(resp, losses)

    def usage_from_response(self, body: bytes) -> c.Usage | None:
        return self.responses.usage_from_response(body)

    def stream_decoder(self) -> StreamDecoder:
        return self.decoder()

    def stream_encoder(self, model: str, *, include_usage: bool = True) -> StreamEncoder:
        return self.encoder(model, include_usage=include_usage)

    def usage_tap(self) -> UsageTap:
        return self.tap()

    def keepalive(self) -> bytes:
        return self.keepalive_bytes

    def encode_error(self, err: GatewayError) -> tuple[int, bytes]:
        return self.errors.encode_error(err)

    def encode_stream_error(self, err: GatewayError) -> list[SseEvent]:
        return self.errors.encode_stream_error(err)

    def decode_error(
        self, status: int, body: bytes, retry_after: float | None = None
    ) -> UpstreamStatus:
        return self.errors.decode_error(status, body, retry_after)

    def first_event_error(self, event: SseEvent) -> GatewayError | None:
        return self.errors.first_event_error(event)
