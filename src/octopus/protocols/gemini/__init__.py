"""Gemini (`/v1beta/models/{model}:generateContent` and `:streamGenerateContent?alt=sse`)."""

from __future__ import annotations

import msgspec

from octopus.core.sse import SseEvent
from octopus.errors import GatewayError, UpstreamStatus
from octopus.protocols import canonical as c
from octopus.protocols.formats import WireFormat
from octopus.protocols.gemini import errors, request, response
from octopus.protocols.gemini import wire as w
from octopus.protocols.gemini.stream_in import GeminiStreamDecoder
from octopus.protocols.gemini.stream_out import GeminiStreamEncoder

_USAGE = msgspec.json.Decoder(w.UsageOnly)
# a blank line: google-genai reads any other non-`data:` line (an SSE comment too) as JSON
KEEPALIVE = b"\n"

FEATURES = frozenset(
    {
        "text", "system", "images.url", "images.base64", "tools", "tool_choice",
        "tool_result.text", "tool_result.is_error", "reasoning.budget", "reasoning.effort",
        "reasoning.text", "reasoning.opaque", "structured_output", "temperature", "top_p",
        "top_k", "stop", "max_output_tokens", "seed", "penalties", "usage.cache_read",
        "usage.reasoning", "stop.content_filter",
    }
)  # fmt: skip


class GeminiUsageTap:
    """Keeps the latest usageMetadata (Gemini repeats it, growing, on every chunk)."""

    def __init__(self) -> None:
        self.usage: c.Usage | None = None

    def feed(self, event: SseEvent) -> None:
        if b'"usageMetadata"' not in event.data:
            return
        try:
            raw = _USAGE.decode(event.data)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return
        if raw.usage_metadata is not None:
            self.usage = response.decode_usage(raw.usage_metadata)


class GeminiCodec:
    format = WireFormat.GEMINI
    features = FEATURES

    def decode_request(
        self, body: bytes, *, model: str | None = None, stream: bool | None = None
    ) -> c.CanonRequest:
        return request.decode_request(body, model=model, stream=stream)

    def encode_request(self, req: c.CanonRequest, losses: list[c.Loss]) -> bytes:
        return request.encode_request(req, losses)

    def decode_response(self, body: bytes) -> c.CanonResponse:
        return response.decode_response(body)

    def encode_response(self, resp: c.CanonResponse, losses: list[c.Loss]) -> bytes:
        return response.encode_response(resp, losses)

    def stream_decoder(self) -> GeminiStreamDecoder:
        return GeminiStreamDecoder()

    def stream_encoder(self, model: str, *, include_usage: bool = True) -> GeminiStreamEncoder:
        return GeminiStreamEncoder(model, include_usage=include_usage)

    def encode_error(self, err: GatewayError) -> tuple[int, bytes]:
        return errors.encode_error(err)

    def encode_stream_error(self, err: GatewayError) -> list[SseEvent]:
        return errors.encode_stream_error(err)

    def decode_error(
        self, status: int, body: bytes, retry_after: float | None = None
    ) -> UpstreamStatus:
        return errors.decode_error(status, body, retry_after)

    def keepalive(self) -> bytes:
        return KEEPALIVE

    def usage_from_response(self, body: bytes) -> c.Usage | None:
        return response.usage_from_response(body)

    def usage_tap(self) -> GeminiUsageTap:
        return GeminiUsageTap()

    def first_event_error(self, event: SseEvent) -> GatewayError | None:
        return errors.first_event_error(event)


CODEC = GeminiCodec()

__all__ = ["CODEC", "FEATURES", "GeminiCodec"]
