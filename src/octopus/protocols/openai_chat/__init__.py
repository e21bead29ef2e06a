"""OpenAI Chat Completions (`/v1/chat/completions`): the codec and its declared fidelity."""

from __future__ import annotations

import msgspec

from octopus.protocols import canonical as c
from octopus.protocols.assembled import WireCodec
from octopus.protocols.formats import WireFormat
from octopus.protocols.jsonio import decode_or_none
from octopus.protocols.openai_chat import errors, request, response
from octopus.protocols.openai_chat import wire as w
from octopus.protocols.openai_chat.stream_in import ChatStreamDecoder
from octopus.protocols.openai_chat.stream_out import ChatStreamEncoder
from octopus.protocols.sse import KEEPALIVE, SseEvent

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
        if event.data.find(b'"usage"') < 0:
            return
        raw = decode_or_none(_USAGE, event.data)
        if raw is None:
            return
        if raw.usage is not None:
            self.usage = response.decode_usage(raw.usage)


CODEC = WireCodec(
    format=WireFormat.OPENAI_CHAT,
    features=FEATURES,
    requests=request,
    responses=response,
    errors=errors,
    decoder=ChatStreamDecoder,
    encoder=ChatStreamEncoder,
    tap=ChatUsageTap,
    keepalive_bytes=KEEPALIVE,
)

__all__ = ["CODEC", "FEATURES"]
