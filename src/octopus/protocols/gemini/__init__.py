"""Gemini (`/v1beta/models/{model}:generateContent` and `:streamGenerateContent?alt=sse`)."""

from __future__ import annotations

import msgspec

from octopus.protocols import canonical as c
from octopus.protocols.assembled import WireCodec
from octopus.protocols.formats import WireFormat
from octopus.protocols.gemini import errors, request, response
from octopus.protocols.gemini import wire as w
from octopus.protocols.gemini.stream_in import GeminiStreamDecoder
from octopus.protocols.gemini.stream_out import GeminiStreamEncoder
from octopus.protocols.jsonio import decode_or_none
from octopus.protocols.sse import SseEvent

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
        if event.data.find(b'"usageMetadata"') < 0:
            return
        raw = decode_or_none(_USAGE, event.data)
        if raw is None:
            return
        if raw.usage_metadata is not None:
            self.usage = response.decode_usage(raw.usage_metadata)


CODEC = WireCodec(
    format=WireFormat.GEMINI,
    features=FEATURES,
    requests=request,
    responses=response,
    errors=errors,
    decoder=GeminiStreamDecoder,
    encoder=GeminiStreamEncoder,
    tap=GeminiUsageTap,
    keepalive_bytes=KEEPALIVE,
)

__all__ = ["CODEC", "FEATURES"]
