"""OpenAI Responses (`/v1/responses`, what Codex speaks): the codec and its declared fidelity."""

from __future__ import annotations

import msgspec

from octopus.protocols import canonical as c
from octopus.protocols.assembled import WireCodec
from octopus.protocols.formats import WireFormat
from octopus.protocols.jsonio import decode_or_none
from octopus.protocols.openai_responses import errors, request, response
from octopus.protocols.openai_responses import wire as w
from octopus.protocols.openai_responses.stream_in import ResponsesStreamDecoder
from octopus.protocols.openai_responses.stream_out import ResponsesStreamEncoder
from octopus.protocols.sse import KEEPALIVE, SseEvent

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
        if event.data.find(b'"usage"') < 0 or event.data[-400:].find(b'"usage":null') >= 0:
            return
        raw = decode_or_none(_USAGE, event.data)
        if raw is None:
            return
        usage = raw.usage or (raw.response.usage if raw.response is not None else None)
        if usage is not None:
            self.usage = response.decode_usage(usage)


CODEC = WireCodec(
    format=WireFormat.OPENAI_RESPONSES,
    features=FEATURES,
    requests=request,
    responses=response,
    errors=errors,
    decoder=ResponsesStreamDecoder,
    encoder=ResponsesStreamEncoder,
    tap=ResponsesUsageTap,
    keepalive_bytes=KEEPALIVE,
)

__all__ = ["CODEC", "FEATURES"]
