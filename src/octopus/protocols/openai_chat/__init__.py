"""OpenAI Chat Completions (`/v1/chat/completions`): the codec and its declared fidelity."""

from __future__ import annotations

import msgspec

from octopus.core.sse import KEEPALIVE, SseEvent
from octopus.errors import GatewayError, UpstreamStatus
from octopus.protocols import canonical as c
from octopus.protocols.formats import WireFormat
from octopus.protocols.openai_chat import errors, request, response
from octopus.protocols.openai_chat import wire as w
from octopus.protocols.openai_chat.stream_in import ChatStreamDecoder
from octopus.protocols.openai_chat.stream_out import ChatStreamEncoder

_USAGE = msgspec.json.Decoder(w.UsageOnly)

FEATURES = frozenset(
    {
        "text", "system", "system.mid_conversation", "images.url", "images.base64",
        "tools", "tool_choice", "parallel_tool_calls", "tool_result.text",
        "reasoning.effort", "reasoning.text", "structured_output", "temperature", "top_p",
        "stop", "max_output_tokens", "seed", "penalties", "user", "cache_key",
        "usage.cache_read", "usage.cache_write", "usage.reasoning", "stop.content_filter",
    }
)  # fmt: skip


class ChatUsageTap:
    """Keeps the last usage seen in a passthrough chat stream (the final usage chunk)."""

    def __init__(self) -> None:
        self.usage: c.Usage | None = None

    def feed(self, event: SseEvent) -> None:
        if b'"usage"' not in event.data:
            return
        try:
            raw = _USAGE.decode(event.data)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return
        if raw.usage is not None:
            self.usage = response.decode_usage(raw.usage)


class OpenAIChatCodec:
    format = WireFormat.OPENAI_CHAT
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

    def stream_decoder(self) -> ChatStreamDecoder:
        return ChatStreamDecoder()

    def stream_encoder(self, model: str, *, include_usage: bool = True) -> ChatStreamEncoder:
        return ChatStreamEncoder(model, include_usage=include_usage)

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

    def usage_tap(self) -> ChatUsageTap:
        return ChatUsageTap()

    def first_event_error(self, event: SseEvent) -> GatewayError | None:
        return errors.first_event_error(event)


CODEC = OpenAIChatCodec()

__all__ = ["CODEC", "FEATURES", "OpenAIChatCodec"]
