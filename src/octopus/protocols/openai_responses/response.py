"""OpenAI Responses response object ↔ CanonResponse, plus usage and status tables."""

from __future__ import annotations

import time
from typing import Any

from octopus.errors import UpstreamProtocol
from octopus.protocols import canonical as c
from octopus.protocols import jsonio
from octopus.protocols.formats import WireFormat
from octopus.protocols.openai_responses import items as it
from octopus.protocols.openai_responses import wire as w

FMT = WireFormat.OPENAI_RESPONSES
INCOMPLETE_IN: dict[str, c.StopReason] = {
    "max_output_tokens": "length",
    "content_filter": "content_filter",
}
INCOMPLETE_OUT: dict[c.StopReason, str] = {
    "length": "max_output_tokens",
    "content_filter": "content_filter",
    "refusal": "content_filter",
}


def error_code(kind: str) -> str:
    """Responses only knows a fixed list of error codes (the SDK rejects any other)."""
    return {"rate_limit": "rate_limit_exceeded", "invalid_request": "invalid_prompt"}.get(
        kind, "server_error"
    )


def decode_usage(u: w.Usage) -> c.Usage:
    details = u.input_tokens_details or w.InputDetails()
    reasoning = (u.output_tokens_details or w.OutputDetails()).reasoning_tokens
    return c.Usage(
        input_tokens=u.input_tokens or 0,
        output_tokens=u.output_tokens or 0,
        cache_read_tokens=details.cached_tokens or 0,
        cache_write_tokens=details.cache_write_tokens or 0,
        reasoning_tokens=reasoning or 0,
    )


def encode_usage(u: c.Usage) -> dict[str, Any]:
    return {
        "input_tokens": u.input_tokens,
        "input_tokens_details": {
            "cached_tokens": u.cache_read_tokens,
            "cache_write_tokens": u.cache_write_tokens,
        },
        "output_tokens": u.output_tokens,
        "output_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
        "total_tokens": u.total_tokens,
    }


def stop_of(raw: w.Response, has_calls: bool) -> c.StopReason:
    if raw.status == "incomplete":
        reason = (raw.incomplete_details or w.IncompleteDetails()).reason or ""
        return INCOMPLETE_IN.get(reason, "length")
    if raw.status == "failed":
        return "error"
    return "tool_use" if has_calls else "end"


def decode_response(body: bytes) -> c.CanonResponse:
    raw = jsonio.upstream_body(body, w.Response, "response")
    losses: list[c.Loss] = []
    content = it.decode_output(raw.output or [], losses)
    resp = c.CanonResponse(
        id=raw.id or "",
        model=raw.model or "",
        created=raw.created_at or 0,
        content=content,
        stop_reason=stop_of(raw, any(isinstance(b, c.ToolCall) for b in content)),
        usage=decode_usage(raw.usage or w.Usage()),
    )
    if raw.error is not None and raw.status == "failed":
        message = raw.error.message or raw.error.code or "response failed"
        resp.error = c.ErrorInfo(message, 502, "upstream")
    return resp


def response_object(
    resp_id: str, model: str, created: int, status: str, output: list[dict[str, Any]]
) -> dict[str, Any]:
    """The `response` object shared by the body and every lifecycle event."""
    return {
        "id": resp_id,
        "object": "response",
        "created_at": created or int(time.time()),
        "status": status,
        "error": None,
        "incomplete_details": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": None,
    }


def finish_object(obj: dict[str, Any], stop: c.StopReason, usage: c.Usage) -> dict[str, Any]:
    reason = INCOMPLETE_OUT.get(stop)
    obj["status"] = "incomplete" if reason else "completed"
    if reason:
        obj["incomplete_details"] = {"reason": reason}
    obj["usage"] = encode_usage(usage)
    return obj


def encode_response(resp: c.CanonResponse, losses: list[c.Loss]) -> bytes:
    output = it.encode_output(resp.content, losses)
    obj = response_object(resp.id or "resp_octopus", resp.model, resp.created, "completed", output)
    if resp.error is not None:
        obj["status"] = "failed"
        obj["error"] = {"code": error_code(resp.error.kind), "message": resp.error.message}
        obj["usage"] = encode_usage(resp.usage)
        return jsonio.encode(obj)
    return jsonio.encode(finish_object(obj, resp.stop_reason or "end", resp.usage))


def usage_from_response(body: bytes) -> c.Usage | None:
    try:
        raw = jsonio.upstream_body(body, w.UsageOnly, "usage")
    except UpstreamProtocol:  # metering must never fail the response
        return None
    return decode_usage(raw.usage) if raw.usage is not None else None
