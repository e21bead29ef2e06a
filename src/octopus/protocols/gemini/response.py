"""Gemini GenerateContentResponse ↔ CanonResponse, plus usage and finish-reason tables."""

from __future__ import annotations

from typing import Any

from octopus.errors import UpstreamProtocol
from octopus.protocols import canonical as c
from octopus.protocols import jsonio
from octopus.protocols.formats import WireFormat
from octopus.protocols.gemini import wire as w
from octopus.protocols.gemini.parts import PartDecoder, PartEncoder

FMT = WireFormat.GEMINI
FINISH_IN: dict[str, c.StopReason] = {
    "STOP": "end",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
}
FINISH_OUT: dict[c.StopReason, str] = {
    "end": "STOP",
    "tool_use": "STOP",
    "stop_sequence": "STOP",
    "pause": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
    "refusal": "SAFETY",
    "error": "OTHER",
}


def decode_usage(u: w.UsageMetadata) -> c.Usage:
    thoughts = u.thoughts_token_count or 0
    return c.Usage(
        input_tokens=u.prompt_token_count or 0,
        output_tokens=(u.candidates_token_count or 0) + thoughts,
        cache_read_tokens=u.cached_content_token_count or 0,
        reasoning_tokens=thoughts,
    )


def encode_usage(u: c.Usage) -> dict[str, Any]:
    out = {
        "promptTokenCount": u.input_tokens,
        "candidatesTokenCount": max(u.output_tokens - u.reasoning_tokens, 0),
        "totalTokenCount": u.total_tokens,
    }
    if u.cache_read_tokens:
        out["cachedContentTokenCount"] = u.cache_read_tokens
    if u.reasoning_tokens:
        out["thoughtsTokenCount"] = u.reasoning_tokens
    return out


def stop_of(finish: str | None, has_calls: bool) -> c.StopReason:
    stop = FINISH_IN.get(finish or "STOP", "end")
    return "tool_use" if stop == "end" and has_calls else stop


def decode_response(body: bytes) -> c.CanonResponse:
    raw = jsonio.upstream_body(body, w.Response, "generateContent response")
    resp = c.CanonResponse(id=raw.response_id or "", model=raw.model_version or "")
    resp.usage = decode_usage(raw.usage_metadata or w.UsageMetadata())
    candidate = next(iter(raw.candidates or []), None)
    if candidate is None:
        blocked = raw.prompt_feedback is not None and raw.prompt_feedback.block_reason
        resp.stop_reason = "content_filter" if blocked else "end"
        return resp
    content = candidate.content or w.Content()
    resp.content = PartDecoder([], mint=True).blocks(content.parts)
    has_calls = any(isinstance(b, c.ToolCall) for b in resp.content)
    resp.stop_reason = stop_of(candidate.finish_reason, has_calls)
    return resp


def encode_response(resp: c.CanonResponse, losses: list[c.Loss]) -> bytes:
    encoder = PartEncoder(FMT, losses, output=True)
    parts = encoder.parts(resp.content) + encoder.flush()
    candidate = {
        "content": {"role": "model", "parts": parts},
        "finishReason": FINISH_OUT[resp.stop_reason or "end"],
        "index": 0,
    }
    out = {
        "candidates": [candidate],
        "usageMetadata": encode_usage(resp.usage),
        "modelVersion": resp.model,
        "responseId": resp.id,
    }
    return jsonio.encode(out)


def usage_from_response(body: bytes) -> c.Usage | None:
    try:
        raw = jsonio.upstream_body(body, w.UsageOnly, "usage")
    except UpstreamProtocol:  # metering must never fail the response
        return None
    return decode_usage(raw.usage_metadata) if raw.usage_metadata is not None else None
