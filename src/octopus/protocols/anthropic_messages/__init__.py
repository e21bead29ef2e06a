"""Anthropic Messages (`/v1/messages`): the codec and its declared fidelity."""

from __future__ import annotations

import msgspec

from octopus.protocols import canonical as c
from octopus.protocols.anthropic_messages import errors, request, response
from octopus.protocols.anthropic_messages import wire as w
from octopus.protocols.anthropic_messages.stream_in import MessagesStreamDecoder
from octopus.protocols.anthropic_messages.stream_out import MessagesStreamEncoder
from octopus.protocols.assembled import WireCodec
from octopus.protocols.formats import WireFormat
from octopus.protocols.jsonio import decode_or_none
from octopus.protocols.sse import SseEvent

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
        if event.data.find(b'"usage"') < 0:
            return
        raw = decode_or_none(_USAGE, event.data)
        if raw is None:
            return
        usage = raw.usage or (raw.message.usage if raw.message is not None else None)
        if usage is not None:
            self._raw = response.merge_usage(self._raw, usage)
            self.usage = response.decode_usage(self._raw)


CODEC = WireCodec(
    format=WireFormat.ANTHROPIC,
    features=FEATURES,
    requests=request,
    responses=response,
    errors=errors,
    decoder=MessagesStreamDecoder,
    encoder=MessagesStreamEncoder,
    tap=MessagesUsageTap,
    keepalive_bytes=PING,
)

__all__ = ["CODEC", "FEATURES"]
