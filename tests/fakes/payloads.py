"""Canned provider answers (non-stream bodies and SSE events) for the fake upstream, per protocol."""

from __future__ import annotations

import json
from collections.abc import Iterator

from octopus.protocols import WireFormat
from tests.fixture_paths import PROTOCOL_FIXTURES

ERRORS = PROTOCOL_FIXTURES / "errors"
USAGE_IN, USAGE_OUT = 11, 7


def _dump(doc: object) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def text_for(tag: str) -> str:
    return f"hello from {tag}"


def body(kind: WireFormat, model: str, tag: str) -> bytes:
    text = text_for(tag)
    if kind is WireFormat.OPENAI_CHAT:
        return _dump(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": 1700000000,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": USAGE_IN,
                    "completion_tokens": USAGE_OUT,
                    "total_tokens": USAGE_IN + USAGE_OUT,
                },
            }
        )
    if kind is WireFormat.OPENAI_RESPONSES:
        return _dump(_response(model, text, "completed"))
    if kind is WireFormat.ANTHROPIC:
        return _dump(_message(model, [{"type": "text", "text": text}], USAGE_OUT, "end_turn"))
    return _dump(_gemini(text, model, final=True))


def _response(model: str, text: str, status: str) -> dict[str, object]:
    output = []
    if text:
        content = [{"type": "output_text", "text": text, "annotations": []}]
        output = [
            {
                "type": "message",
                "id": "msg_fake",
                "status": "completed",
                "role": "assistant",
                "content": content,
            }
        ]
    return {
        "id": "resp_fake",
        "object": "response",
        "created_at": 1700000000,
        "status": status,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": USAGE_IN,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": USAGE_OUT,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": USAGE_IN + USAGE_OUT,
        },
    }


def _message(model: str, content: list[object], out: int, stop: str | None) -> dict[str, object]:
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": USAGE_IN, "output_tokens": out},
    }


def _gemini(text: str, model: str, *, final: bool) -> dict[str, object]:
    candidate: dict[str, object] = {
        "content": {"role": "model", "parts": [{"text": text}]},
        "index": 0,
    }
    doc: dict[str, object] = {"candidates": [candidate], "modelVersion": model}
    if final:
        candidate["finishReason"] = "STOP"
        doc["usageMetadata"] = {
            "promptTokenCount": USAGE_IN,
            "candidatesTokenCount": USAGE_OUT,
            "totalTokenCount": USAGE_IN + USAGE_OUT,
        }
    return doc


def sse(data: object, event: str = "") -> bytes:
    head = f"event: {event}\n".encode() if event else b""
    payload = data if isinstance(data, bytes) else _dump(data)
    return head + b"data: " + payload + b"\n\n"


def stream_events(
    kind: WireFormat, model: str, pieces: list[str], usage: bool = True
) -> Iterator[bytes]:
    """The full event sequence of a streamed answer whose text is `pieces` joined."""
    if kind is WireFormat.OPENAI_CHAT:
        yield from _chat_stream(model, pieces, usage)
    elif kind is WireFormat.OPENAI_RESPONSES:
        yield from _responses_stream(model, pieces)
    elif kind is WireFormat.ANTHROPIC:
        yield from _anthropic_stream(model, pieces)
    else:
        for i, piece in enumerate(pieces):
            yield sse(_gemini(piece, model, final=i == len(pieces) - 1))


def _chunk(model: str, delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _chat_stream(model: str, pieces: list[str], usage: bool) -> Iterator[bytes]:
    yield sse(_chunk(model, {"role": "assistant", "content": ""}))
    for piece in pieces:
        yield sse(_chunk(model, {"content": piece}))
    yield sse(_chunk(model, {}, "stop"))
    if usage:
        tail = _chunk(model, {})
        tail["choices"] = []
        tail["usage"] = {
            "prompt_tokens": USAGE_IN,
            "completion_tokens": USAGE_OUT,
            "total_tokens": USAGE_IN + USAGE_OUT,
        }
        yield sse(tail)
    yield b"data: [DONE]\n\n"


def _responses_stream(model: str, pieces: list[str]) -> Iterator[bytes]:
    seq = iter(range(1_000_000_000))
    text = "".join(pieces)
    created = _response(model, "", "in_progress")
    yield sse(
        {"type": "response.created", "sequence_number": next(seq), "response": created},
        "response.created",
    )
    item = {
        "type": "message",
        "id": "msg_fake",
        "status": "in_progress",
        "role": "assistant",
        "content": [],
    }
    yield sse(
        {
            "type": "response.output_item.added",
            "sequence_number": next(seq),
            "output_index": 0,
            "item": item,
        },
        "response.output_item.added",
    )
    part = {"type": "output_text", "text": "", "annotations": []}
    base = {"item_id": "msg_fake", "output_index": 0, "content_index": 0}
    yield sse(
        {"type": "response.content_part.added", "sequence_number": next(seq), **base, "part": part},
        "response.content_part.added",
    )
    for piece in pieces:
        yield sse(
            {
                "type": "response.output_text.delta",
                "sequence_number": next(seq),
                **base,
                "delta": piece,
                "logprobs": [],
            },
            "response.output_text.delta",
        )
    yield sse(
        {
            "type": "response.output_text.done",
            "sequence_number": next(seq),
            **base,
            "text": text,
            "logprobs": [],
        },
        "response.output_text.done",
    )
    done_part = {"type": "output_text", "text": text, "annotations": []}
    yield sse(
        {
            "type": "response.content_part.done",
            "sequence_number": next(seq),
            **base,
            "part": done_part,
        },
        "response.content_part.done",
    )
    done_item = {**item, "status": "completed", "content": [done_part]}
    yield sse(
        {
            "type": "response.output_item.done",
            "sequence_number": next(seq),
            "output_index": 0,
            "item": done_item,
        },
        "response.output_item.done",
    )
    final = _response(model, text, "completed")
    yield sse(
        {"type": "response.completed", "sequence_number": next(seq), "response": final},
        "response.completed",
    )


def _anthropic_stream(model: str, pieces: list[str]) -> Iterator[bytes]:
    start = _message(model, [], 1, None)
    yield sse({"type": "message_start", "message": start}, "message_start")
    block = {"type": "text", "text": ""}
    yield sse(
        {"type": "content_block_start", "index": 0, "content_block": block}, "content_block_start"
    )
    yield sse({"type": "ping"}, "ping")
    for piece in pieces:
        delta = {"type": "text_delta", "text": piece}
        yield sse(
            {"type": "content_block_delta", "index": 0, "delta": delta}, "content_block_delta"
        )
    yield sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
    ending: dict[str, object] = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": USAGE_OUT},
    }
    yield sse(ending, "message_delta")
    yield sse({"type": "message_stop"}, "message_stop")


def error_event(kind: WireFormat) -> bytes:
    """An in-band error as the provider sends it as the first (or a later) stream event."""
    if kind is WireFormat.ANTHROPIC:
        return (ERRORS / "anthropic-stream-error-event.sse.txt").read_bytes()
    if kind is WireFormat.OPENAI_RESPONSES:
        doc = {
            "type": "error",
            "code": "server_error",
            "message": "The server had an error",
            "sequence_number": 0,
        }
        return sse(doc, "error")
    if kind is WireFormat.GEMINI:
        return sse(json.loads((ERRORS / "gemini-503-UNAVAILABLE.json").read_bytes()))
    return sse(
        {"error": {"message": "The server had an error", "type": "server_error", "code": None}}
    )


_ERROR_FILES = {
    WireFormat.OPENAI_CHAT: {
        400: "openai-400-invalid_request_error.json",
        429: "openai-429-rate_limit_exceeded.json",
        503: "openai-503-server_is_overloaded.json",
    },
    WireFormat.ANTHROPIC: {
        400: "anthropic-400-invalid_request_error.json",
        429: "anthropic-429-rate_limit_error.json",
        529: "anthropic-529-overloaded_error.json",
    },
    WireFormat.GEMINI: {
        400: "gemini-400-INVALID_ARGUMENT.json",
        503: "gemini-503-UNAVAILABLE.json",
    },
}


def error_body(kind: WireFormat, status: int) -> bytes:
    """A recorded provider error body for `status` when there is one, else one in its shape."""
    files = _ERROR_FILES.get(
        WireFormat.OPENAI_CHAT if kind is WireFormat.OPENAI_RESPONSES else kind, {}
    )
    if status in files:
        return (ERRORS / files[status]).read_bytes()
    message = f"fake upstream error {status}"
    if kind is WireFormat.ANTHROPIC:
        return _dump({"type": "error", "error": {"type": "api_error", "message": message}})
    if kind is WireFormat.GEMINI:
        return _dump({"error": {"code": status, "message": message, "status": "INTERNAL"}})
    return _dump(
        {"error": {"message": message, "type": "server_error", "param": None, "code": None}}
    )
