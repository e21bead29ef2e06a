"""A scripted `Reply` as each provider streams it (the SSE event sequence, one bytes per event)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from typing import Any

from octopus.protocols import WireFormat
from tests.fakes import replies as r
from tests.fakes.payloads import sse


def events(kind: WireFormat, model: str, reply: r.Reply) -> list[bytes]:
    makers = {
        WireFormat.OPENAI_CHAT: chat,
        WireFormat.OPENAI_RESPONSES: responses,
        WireFormat.ANTHROPIC: anthropic,
        WireFormat.GEMINI: gemini,
    }
    return list(makers[kind](model, reply))


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def chat(model: str, reply: r.Reply) -> Iterator[bytes]:
    yield sse(_chunk(model, {"role": "assistant", "content": ""}))
    for thought in reply.thoughts:
        yield sse(_chunk(model, {"reasoning_content": thought}))
    for piece in reply.pieces:
        yield sse(_chunk(model, {"content": piece}))
    for index, call in enumerate(reply.calls):
        head = {"name": call.name, "arguments": ""}
        opening = {"index": index, "id": call.id, "type": "function", "function": head}
        yield sse(_chunk(model, {"tool_calls": [opening]}))
        for half in call.halves():
            more = {"index": index, "function": {"arguments": half}}
            yield sse(_chunk(model, {"tool_calls": [more]}))
    yield sse(_chunk(model, {}, "tool_calls" if reply.calls else "stop"))
    tail = _chunk(model, {})
    tail["choices"] = []
    tail["usage"] = r.chat_usage(reply.tokens)
    yield sse(tail)
    yield b"data: [DONE]\n\n"


class _Seq:
    """Responses events carry a running sequence number."""

    def __init__(self) -> None:
        self._n = count()

    def __call__(self, kind: str, **fields: Any) -> bytes:
        return sse({"type": kind, "sequence_number": next(self._n), **fields}, kind)


def responses(model: str, reply: r.Reply) -> Iterator[bytes]:
    emit = _Seq()
    yield emit("response.created", response=r.response_object(model, reply, done=False))
    yield emit("response.in_progress", response=r.response_object(model, reply, done=False))
    for index, item in enumerate(r.response_items(reply)):
        kind = item["type"]
        if kind == "reasoning":
            yield from _reasoning_item(emit, index, item, reply)
        elif kind == "message":
            yield from _message_item(emit, index, item, reply)
        else:
            yield from _call_item(emit, index, item, reply)
    yield emit("response.completed", response=r.response_object(model, reply))


def _reasoning_item(
    emit: _Seq, index: int, item: dict[str, Any], reply: r.Reply
) -> Iterator[bytes]:
    opened = {"type": "reasoning", "id": item["id"], "summary": []}  # encrypted at done only
    yield emit("response.output_item.added", output_index=index, item=opened)
    at = {"item_id": item["id"], "output_index": index, "summary_index": 0}
    empty = {"type": "summary_text", "text": ""}
    yield emit("response.reasoning_summary_part.added", **at, part=empty)
    for thought in reply.thoughts:
        yield emit("response.reasoning_summary_text.delta", **at, delta=thought)
    yield emit("response.reasoning_summary_text.done", **at, text=reply.thinking)
    yield emit("response.reasoning_summary_part.done", **at, part=item["summary"][0])
    yield emit("response.output_item.done", output_index=index, item=item)


def _message_item(emit: _Seq, index: int, item: dict[str, Any], reply: r.Reply) -> Iterator[bytes]:
    opened = {**item, "status": "in_progress", "content": []}
    yield emit("response.output_item.added", output_index=index, item=opened)
    at = {"item_id": item["id"], "output_index": index, "content_index": 0}
    empty = {"type": "output_text", "text": "", "annotations": []}
    yield emit("response.content_part.added", **at, part=empty)
    for piece in reply.pieces:
        yield emit("response.output_text.delta", **at, delta=piece, logprobs=[])
    yield emit("response.output_text.done", **at, text=reply.text, logprobs=[])
    yield emit("response.content_part.done", **at, part=item["content"][0])
    yield emit("response.output_item.done", output_index=index, item=item)


def _call_item(emit: _Seq, index: int, item: dict[str, Any], reply: r.Reply) -> Iterator[bytes]:
    call = next(c for c in reply.calls if c.id == item["call_id"])
    opened = {**item, "status": "in_progress", "arguments": ""}
    yield emit("response.output_item.added", output_index=index, item=opened)
    at = {"item_id": item["id"], "output_index": index}
    for half in call.halves():
        yield emit("response.function_call_arguments.delta", **at, delta=half)
    yield emit("response.function_call_arguments.done", **at, arguments=call.arguments)
    yield emit("response.output_item.done", output_index=index, item=item)


def anthropic(model: str, reply: r.Reply) -> Iterator[bytes]:
    start: dict[str, Any] = {
        "id": "msg_scripted",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": r.anthropic_usage(reply.tokens, 1),
    }
    yield sse({"type": "message_start", "message": start}, "message_start")
    yield sse({"type": "ping"}, "ping")
    for index, block in enumerate(r.anthropic_blocks(reply)):
        yield from _anthropic_block(index, block, reply)
    stop = "tool_use" if reply.calls else "end_turn"
    ending = {
        "type": "message_delta",
        "delta": {"stop_reason": stop, "stop_sequence": None},
        "usage": {"output_tokens": reply.tokens.output},
    }
    yield sse(ending, "message_delta")
    yield sse({"type": "message_stop"}, "message_stop")


def _anthropic_deltas(block: dict[str, Any], reply: r.Reply) -> list[dict[str, Any]]:
    if block["type"] == "thinking":
        thoughts = [{"type": "thinking_delta", "thinking": t} for t in reply.thoughts]
        return [*thoughts, {"type": "signature_delta", "signature": block["signature"]}]
    if block["type"] == "redacted_thinking":
        return []  # all in its block start
    if block["type"] == "text":
        return [{"type": "text_delta", "text": piece} for piece in reply.pieces]
    call = next(c for c in reply.calls if c.id == block["id"])
    return [{"type": "input_json_delta", "partial_json": half} for half in call.halves()]


def _anthropic_block(index: int, block: dict[str, Any], reply: r.Reply) -> Iterator[bytes]:
    shells = {
        "thinking": {"type": "thinking", "thinking": "", "signature": ""},
        "redacted_thinking": block,
        "text": {"type": "text", "text": ""},
        "tool_use": {**block, "input": {}},
    }
    shell = shells[block["type"]]
    yield sse(
        {"type": "content_block_start", "index": index, "content_block": shell},
        "content_block_start",
    )
    for delta in _anthropic_deltas(block, reply):
        yield sse(
            {"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta"
        )
    yield sse({"type": "content_block_stop", "index": index}, "content_block_stop")


def gemini(model: str, reply: r.Reply) -> Iterator[bytes]:
    """One chunk per thought and text piece, then the calls together; the last one finishes."""
    chunks = r.gemini_parts(reply)
    for i, parts in enumerate(chunks):
        doc = r.gemini_chunk(model, parts)
        yield sse(r.gemini_finish(doc, reply) if i == len(chunks) - 1 else doc)
