"""Anthropic Messages (`/v1/messages`): the codec and its declared fidelity."""

from __future__ import annotations

import msgspec

from octopus.core.sse import SseEvent
from octopus.errors import GatewayError, UpstreamStatus
from octopus.protocols import canonical as c
from octopus.protocols.anthropic_messages import errors, request, response
from octopus.protocols.anthropic_messages import wire as w
from octopus.protocols.anthropic_messages.stream_in import MessagesStreamDecoder
from octopus.protocols.anthropic_messages.stream_out import MessagesStreamEncoder
from octopus.protocols.formats import WireFormat

PING = b'event: ping\ndata: {"type": "ping"}\n\n'
_USAGE = msgspec.json.Decoder(w.UsageOnly)

FEATURES = frozenset(
    {
        "text", "system", "system.mid_conversation", "images.url", "images.base64",
        "tools", "tool_choice", "parallel_tool_calls", "tool_result.text", "tool_result.image",
        "tool_result.is_error", "reasoning.effort", "reasoning.budget", "reasoning.text",
        "reasoning.opaque",
        "temperature", "top_p", "top_k", "stop", "max_output_tokens", "user",
        "cache_control", "tools.defer_loading", "usage.cache_read", "usage.cache_write",
        "stop.stop_sequence", "stop.refusal", "stop.pause", "stop.content_filter",
    }
)  # fmt: skip


class MessagesUsageTap:
    """Keeps the usage of message_start and the cumulative usage of message_delta."""

    def __init__(self) -> None:
        self.usage: c.Usage | None = None
        self._raw = w.Usage()

    def feed(self, event: SseEvent) -> None:
        if b'"usage"' not in event.data:
            return
        try:
            raw = _USAGE.decode(event.data)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return
        usage = raw.usage or (raw.message.usage if raw.message is not None else None)
        if usage is not None:
            self._raw = response.merge_usage(self._raw, usage)
            self.usage = response.decode_usage(self._raw)


class AnthropicCodec:
    format = WireFormat.ANTHROPIC
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

    def stream_decoder(self) -> MessagesStreamDecoder:
        return MessagesStreamDecoder()

    def stream_encoder(self, model: str, *, include_usage: bool = True) -> MessagesStreamEncoder:
        return MessagesStreamEncoder(model, include_usage=include_usage)

    def encode_error(self, err: GatewayError) -> tuple[int, bytes]:
        return errors.encode_error(err)

    def encode_stream_error(self, err: GatewayError) -> list[SseEvent]:
        return errors.encode_stream_error(err)

    def decode_error(
        self, status: int, body: bytes, retry_after: float | None = None
    ) -> UpstreamStatus:
        return errors.decode_error(status, body, retry_after)

    def keepalive(self) -> bytes:
        return PING

    def usage_from_response(self, body: bytes) -> c.Usage | None:
        return response.usage_from_response(body)

    def usage_tap(self) -> MessagesUsageTap:
        return MessagesUsageTap()

    def first_event_error(self, event: SseEvent) -> GatewayError | None:
        return errors.first_event_error(event)


CODEC = AnthropicCodec()

__all__ = ["CODEC", "FEATURES", "AnthropicCodec"]
