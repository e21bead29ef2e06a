"""OpenAI Responses (`/v1/responses`, what Codex speaks): the codec and its declared fidelity."""

from __future__ import annotations

import msgspec

from octopus.core.sse import KEEPALIVE, SseEvent
from octopus.errors import GatewayError, UpstreamStatus
from octopus.protocols import canonical as c
from octopus.protocols.formats import WireFormat
from octopus.protocols.openai_responses import errors, request, response
from octopus.protocols.openai_responses import wire as w
from octopus.protocols.openai_responses.stream_in import ResponsesStreamDecoder
from octopus.protocols.openai_responses.stream_out import ResponsesStreamEncoder

_USAGE = msgspec.json.Decoder(w.UsageOnly)

FEATURES = frozenset(
    {
        "text", "system", "system.mid_conversation", "images.url", "images.base64",
        "tools", "tool_choice", "parallel_tool_calls", "tool_result.text", "tool_result.image",
        "reasoning.effort", "reasoning.text", "reasoning.opaque", "structured_output",
        "temperature", "top_p", "max_output_tokens", "user", "cache_key",
        "usage.cache_read", "usage.cache_write", "usage.reasoning", "stop.content_filter",
    }
)  # fmt: skip


class ResponsesUsageTap:
    """Reads usage from the terminal response.completed / response.incomplete event."""

    def __init__(self) -> None:
        self.usage: c.Usage | None = None

    def feed(self, event: SseEvent) -> None:
        if b'"usage"' not in event.data or b'"usage":null' in event.data[-400:]:
            return
        try:
            raw = _USAGE.decode(event.data)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return
        usage = raw.usage or (raw.response.usage if raw.response is not None else None)
        if usage is not None:
            self.usage = response.decode_usage(usage)


class OpenAIResponsesCodec:
    format = WireFormat.OPENAI_RESPONSES
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

    def stream_decoder(self) -> ResponsesStreamDecoder:
        return ResponsesStreamDecoder()

    def stream_encoder(self, model: str, *, include_usage: bool = True) -> ResponsesStreamEncoder:
        return ResponsesStreamEncoder(model, include_usage=include_usage)

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

    def usage_tap(self) -> ResponsesUsageTap:
        return ResponsesUsageTap()

    def first_event_error(self, event: SseEvent) -> GatewayError | None:
        return errors.first_event_error(event)


CODEC = OpenAIResponsesCodec()

__all__ = ["CODEC", "FEATURES", "OpenAIResponsesCodec"]
