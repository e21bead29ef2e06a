"""Scripted provider answers richer than plain text: reasoning, tool calls, cache/reasoning usage.

A `Reply` is written once, provider-neutrally; `body()` renders it as each provider's JSON answer
and `replies_stream.events()` as their SSE streams, in the shapes the real APIs send (hand-written
from their docs and the recorded traffic in shared/fixtures/protocols, not by our codecs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from octopus.protocols import WireFormat


@dataclass(frozen=True)
class Call:
    id: str
    name: str
    args: dict[str, Any]

    @property
    def arguments(self) -> str:
        return json.dumps(self.args, separators=(",", ":"))

    def halves(self) -> tuple[str, str]:
        """The arguments JSON cut in two, as providers stream them."""
        text = self.arguments
        return text[: len(text) // 2], text[len(text) // 2 :]


@dataclass(frozen=True)
class Tokens:
    """Canonical counts: `input` includes `cached`, `output` includes `reasoning`."""

    input: int = 120
    cached: int = 100
    output: int = 30
    reasoning: int = 8


@dataclass(frozen=True)
class Reply:
    pieces: tuple[str, ...] = ()
    thoughts: tuple[str, ...] = ()
    calls: tuple[Call, ...] = ()
    tokens: Tokens = field(default_factory=Tokens)
    # provider-private reasoning state: Anthropic redacted_thinking data, Responses
    # encrypted_content (the other two formats have none to script)
    opaque: str = ""

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    @property
    def thinking(self) -> str:
        return "".join(self.thoughts)


def body(kind: WireFormat, model: str, reply: Reply) -> bytes:
    """The non-stream answer carrying `reply` in the provider's JSON."""
    makers = {
        WireFormat.OPENAI_CHAT: _chat,
        WireFormat.OPENAI_RESPONSES: response_object,
        WireFormat.ANTHROPIC: _message,
        WireFormat.GEMINI: _gemini,
    }
    return json.dumps(makers[kind](model, reply)).encode()


def chat_usage(t: Tokens) -> dict[str, Any]:
    return {
        "prompt_tokens": t.input,
        "completion_tokens": t.output,
        "total_tokens": t.input + t.output,
        "prompt_tokens_details": {"cached_tokens": t.cached},
        "completion_tokens_details": {"reasoning_tokens": t.reasoning},
    }


def _chat(model: str, reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.thinking:
        message["reasoning_content"] = reply.thinking  # DeepSeek / vLLM style
    if reply.calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in reply.calls
        ]
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if reply.calls else "stop",
            }
        ],
        "usage": chat_usage(reply.tokens),
    }


def responses_usage(t: Tokens) -> dict[str, Any]:
    return {
        "input_tokens": t.input,
        "input_tokens_details": {"cached_tokens": t.cached},
        "output_tokens": t.output,
        "output_tokens_details": {"reasoning_tokens": t.reasoning},
        "total_tokens": t.input + t.output,
    }


def response_items(reply: Reply) -> list[dict[str, Any]]:
    """The finished output items: reasoning, then the message, then the function calls."""
    items: list[dict[str, Any]] = []
    if reply.thinking:
        summary = [{"type": "summary_text", "text": reply.thinking}]
        item = {"type": "reasoning", "id": "rs_scripted", "summary": summary}
        items.append({**item, "encrypted_content": reply.opaque} if reply.opaque else item)
    if reply.text:
        content = [{"type": "output_text", "text": reply.text, "annotations": []}]
        items.append(
            {
                "type": "message",
                "id": "msg_scripted",
                "status": "completed",
                "role": "assistant",
                "content": content,
            }
        )
    items.extend(
        {
            "type": "function_call",
            "id": f"fc_{call.id}",
            "call_id": call.id,
            "name": call.name,
            "arguments": call.arguments,
            "status": "completed",
        }
        for call in reply.calls
    )
    return items


def response_object(model: str, reply: Reply, *, done: bool = True) -> dict[str, Any]:
    return {
        "id": "resp_scripted",
        "object": "response",
        "created_at": 1700000000,
        "status": "completed" if done else "in_progress",
        "model": model,
        "output": response_items(reply) if done else [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": responses_usage(reply.tokens) if done else None,
    }


def anthropic_usage(t: Tokens, output: int) -> dict[str, Any]:
    """Anthropic's input_tokens leave out cache reads and writes."""
    return {
        "input_tokens": t.input - t.cached,
        "cache_read_input_tokens": t.cached,
        "cache_creation_input_tokens": 0,
        "output_tokens": output,
    }


def anthropic_blocks(reply: Reply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.thinking:
        blocks.append({"type": "thinking", "thinking": reply.thinking, "signature": "c2lnbmVk"})
    if reply.opaque:
        blocks.append({"type": "redacted_thinking", "data": reply.opaque})
    if reply.text:
        blocks.append({"type": "text", "text": reply.text})
    blocks.extend(
        {"type": "tool_use", "id": call.id, "name": call.name, "input": call.args}
        for call in reply.calls
    )
    return blocks


def _message(model: str, reply: Reply) -> dict[str, Any]:
    return {
        "id": "msg_scripted",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": anthropic_blocks(reply),
        "stop_reason": "tool_use" if reply.calls else "end_turn",
        "stop_sequence": None,
        "usage": anthropic_usage(reply.tokens, reply.tokens.output),
    }


def _gemini_usage(t: Tokens) -> dict[str, Any]:
    """Gemini's candidatesTokenCount leaves out the thoughts."""
    return {
        "promptTokenCount": t.input,
        "cachedContentTokenCount": t.cached,
        "candidatesTokenCount": t.output - t.reasoning,
        "thoughtsTokenCount": t.reasoning,
        "totalTokenCount": t.input + t.output,
    }


def gemini_chunk(model: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "candidates": [{"content": {"role": "model", "parts": parts}, "index": 0}],
        "modelVersion": model,
        "responseId": "gemini-scripted",
    }


def gemini_parts(reply: Reply) -> list[list[dict[str, Any]]]:
    """The parts as they stream: one chunk per thought and text piece, the calls together."""
    chunks: list[list[dict[str, Any]]] = [[{"text": t, "thought": True}] for t in reply.thoughts]
    chunks += [[{"text": piece}] for piece in reply.pieces]
    if reply.calls:
        chunks.append([{"functionCall": {"name": c.name, "args": c.args}} for c in reply.calls])
    return chunks


def gemini_finish(doc: dict[str, Any], reply: Reply) -> dict[str, Any]:
    doc["candidates"][0]["finishReason"] = "STOP"
    doc["usageMetadata"] = _gemini_usage(reply.tokens)
    return doc


def _gemini(model: str, reply: Reply) -> dict[str, Any]:
    parts = [part for chunk in gemini_parts(reply) for part in chunk]
    if reply.thinking:  # a whole answer carries one thought part, not one per piece
        parts = [{"text": reply.thinking, "thought": True}, *parts[len(reply.thoughts) :]]
    return gemini_finish(gemini_chunk(model, parts), reply)
