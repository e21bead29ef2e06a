"""Anthropic Messages response body ↔ CanonResponse, plus the usage and stop-reason tables."""

from __future__ import annotations

from typing import Any

import msgspec

from octopus.errors import UpstreamProtocol
from octopus.protocols import canonical as c
from octopus.protocols import jsonio
from octopus.protocols.anthropic_messages import wire as w
from octopus.protocols.anthropic_messages.blocks import decode_blocks, response_block
from octopus.protocols.formats import WireFormat

FMT = WireFormat.ANTHROPIC
STOP_IN: dict[str, c.StopReason] = {
    "end_turn": "end",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "stop_sequence": "stop_sequence",
    "tool_use": "tool_use",
    "pause_turn": "pause",
    "refusal": "refusal",
}
STOP_OUT: dict[c.StopReason, str] = {
    "end": "end_turn",
    "length": "max_tokens",
    "stop_sequence": "stop_sequence",
    "tool_use": "tool_use",
    "pause": "pause_turn",
    "refusal": "refusal",
    "content_filter": "refusal",
    "error": "end_turn",
}


def decode_usage(u: w.Usage) -> c.Usage:
    read = u.cache_read_input_tokens or 0
    write = u.cache_creation_input_tokens or 0
    return c.Usage(
        input_tokens=(u.input_tokens or 0) + read + write,
        output_tokens=u.output_tokens or 0,
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


def encode_usage(u: c.Usage) -> dict[str, Any]:
    fresh = max(u.input_tokens - u.cache_read_tokens - u.cache_write_tokens, 0)
    return {
        "input_tokens": fresh,
        "cache_creation_input_tokens": u.cache_write_tokens,
        "cache_read_input_tokens": u.cache_read_tokens,
        "output_tokens": u.output_tokens,
    }


def merge_usage(old: w.Usage, new: w.Usage) -> w.Usage:
    """message_delta usage is cumulative but may omit fields message_start had."""
    fields = {f: getattr(new, f) for f in new.__struct_fields__ if getattr(new, f) is not None}
    return msgspec.structs.replace(old, **fields)


def decode_response(body: bytes) -> c.CanonResponse:
    raw = jsonio.upstream_body(body, w.Response, "message")
    losses: list[c.Loss] = []
    return c.CanonResponse(
        id=raw.id or "",
        model=raw.model or "",
        content=decode_blocks(raw.content, losses),
        stop_reason=STOP_IN.get(raw.stop_reason or "end_turn", "end"),
        stop_sequence=raw.stop_sequence,
        usage=decode_usage(raw.usage or w.Usage()),
    )


def encode_response(resp: c.CanonResponse, losses: list[c.Loss]) -> bytes:
    content = [b for b in (response_block(x, losses) for x in resp.content) if b is not None]
    out = {
        "id": resp.id or "msg_octopus",
        "type": "message",
        "role": "assistant",
        "model": resp.model,
        "content": content,
        "stop_reason": STOP_OUT[resp.stop_reason or "end"],
        "stop_sequence": resp.stop_sequence,
        "usage": encode_usage(resp.usage),
    }
    return jsonio.encode(out)


def usage_from_response(body: bytes) -> c.Usage | None:
    try:
        raw = jsonio.upstream_body(body, w.UsageOnly, "usage")
    except UpstreamProtocol:  # metering must never fail the response
        return None
    return decode_usage(raw.usage) if raw.usage is not None else None
