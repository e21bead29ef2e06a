"""OpenAI Chat Completions response body ↔ CanonResponse, plus usage and finish-reason tables."""

from __future__ import annotations

import time
from typing import Any

from octopus.errors import UpstreamProtocol
from octopus.protocols import canonical as c
from octopus.protocols import jsonio
from octopus.protocols.formats import WireFormat
from octopus.protocols.openai_chat import wire as w
from octopus.protocols.openai_chat.request import encode_call

FMT = WireFormat.OPENAI_CHAT
FINISH_IN: dict[str, c.StopReason] = {
    "stop": "end",
    "length": "length",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "content_filter",
}
FINISH_OUT: dict[c.StopReason, str] = {
    "end": "stop",
    "length": "length",
    "tool_use": "tool_calls",
    "stop_sequence": "stop",
    "content_filter": "content_filter",
    "refusal": "content_filter",
    "pause": "stop",
    "error": "stop",
}


def decode_usage(u: w.Usage) -> c.Usage:
    prompt = u.prompt_tokens_details or w.PromptDetails()
    done = u.completion_tokens_details or w.CompletionDetails()
    return c.Usage(
        input_tokens=u.prompt_tokens or 0,
        output_tokens=u.completion_tokens or 0,
        cache_read_tokens=prompt.cached_tokens or u.prompt_cache_hit_tokens or 0,
        cache_write_tokens=prompt.cache_write_tokens or 0,
        reasoning_tokens=done.reasoning_tokens or 0,
    )


def encode_usage(u: c.Usage) -> dict[str, Any]:
    prompt: dict[str, int] = {"cached_tokens": u.cache_read_tokens}
    if u.cache_write_tokens:
        prompt["cache_write_tokens"] = u.cache_write_tokens
    return {
        "prompt_tokens": u.input_tokens,
        "completion_tokens": u.output_tokens,
        "total_tokens": u.total_tokens,
        "prompt_tokens_details": prompt,
        "completion_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
    }


def decode_response(body: bytes) -> c.CanonResponse:
    raw = jsonio.upstream_body(body, w.Response, "chat completion")
    resp = c.CanonResponse(id=raw.id or "", model=raw.model or "", created=raw.created or 0)
    if raw.usage is not None:
        resp.usage = decode_usage(raw.usage)
    choice = next((ch for ch in raw.choices or [] if ch.index == 0), None)
    if choice is None:
        return resp
    resp.stop_reason = FINISH_IN.get(choice.finish_reason or "stop", "end")
    msg = choice.message or w.Message(role="assistant")
    reasoning = msg.reasoning_content or msg.reasoning
    if reasoning:
        resp.content.append(c.Reasoning(reasoning))
    text = msg.content if isinstance(msg.content, str) else ""
    if text or msg.refusal:
        resp.content.append(c.Text(text or msg.refusal or ""))
    for call in msg.tool_calls or []:
        call_id = call.id or call.function.name
        args = call.function.arguments or "{}"
        resp.content.append(c.ToolCall(call_id, call.function.name, args))
    return resp


def encode_response(resp: c.CanonResponse, losses: list[c.Loss]) -> bytes:
    message: dict[str, Any] = {"role": "assistant", "content": c.text_of(resp.content) or None}
    reasoning = "".join(b.text for b in resp.content if isinstance(b, c.Reasoning))
    if reasoning:
        message["reasoning_content"] = reasoning
    calls = [encode_call(b) for b in resp.content if isinstance(b, c.ToolCall)]
    if calls:
        message["tool_calls"] = calls
    for block in resp.content:
        if isinstance(block, c.Reasoning) and block.opaque is not None:
            c.opaque_loss(losses, block.opaque.origin, FMT)
    finish = FINISH_OUT[resp.stop_reason or "end"]
    choice = {"index": 0, "message": message, "finish_reason": finish}
    out = {
        "id": resp.id or "chatcmpl-octopus",
        "object": "chat.completion",
        "created": resp.created or int(time.time()),
        "model": resp.model,
        "choices": [choice],
        "usage": encode_usage(resp.usage),
    }
    return jsonio.encode(out)


def usage_from_response(body: bytes) -> c.Usage | None:
    try:
        raw = jsonio.upstream_body(body, w.UsageOnly, "usage")
    except UpstreamProtocol:  # metering must never fail the response
        return None
    return decode_usage(raw.usage) if raw.usage is not None else None
