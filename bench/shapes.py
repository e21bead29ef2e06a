"""Stream shapes the bench upstream serves: OpenAI Chat, Anthropic Messages and Gemini SSE events.

A request asks for a shape with a marker anywhere in its body (it survives format conversion
because it sits in the user's message): `bench:<events>x<pace>ms`, optionally `:burst` (every
event in one write, so a proxy reads many events at once). Paced streams send the provider's
preamble (OpenAI role chunk, Anthropic message_start + content_block_start) with the headers,
like real providers, then one content event every <pace> ms, then the closing events.
Each content event carries the text `tokN `, so a client can count what arrived in any format.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import orjson

MARKER = re.compile(rb"bench:(\d+)x(\d+)ms(:burst)?")
MODEL = "bench-model"
USAGE = {"prompt_tokens": 12, "completion_tokens": 100, "total_tokens": 112}


@dataclass(frozen=True)
class Shape:
    events: int  # content events
    pace: float  # seconds between content events
    burst: bool  # all events in one write


@dataclass(frozen=True)
class Stream:
    """Pre-encoded SSE events (not HTTP-chunked): preamble, content, closing."""

    preamble: tuple[bytes, ...]
    content: tuple[bytes, ...]
    closing: tuple[bytes, ...]


def shape_of(body: bytes) -> Shape | None:
    found = MARKER.search(body)
    if found is None:
        return None
    return Shape(int(found.group(1)), int(found.group(2)) / 1000, bool(found.group(3)))


def marker(events: int, pace_ms: int, *, burst: bool = False) -> str:
    return f"bench:{events}x{pace_ms}ms" + (":burst" if burst else "")


def _data(payload: object, event: str = "") -> bytes:
    head = f"event: {event}\n".encode() if event else b""
    return head + b"data: " + orjson.dumps(payload) + b"\n\n"


def _openai_chunk(delta: dict[str, str], finish: str | None = None) -> dict[str, object]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


@cache
def openai(events: int) -> Stream:
    usage = {**_openai_chunk({}), "choices": [], "usage": USAGE}
    return Stream(
        (_data(_openai_chunk({"role": "assistant", "content": ""})),),
        tuple(_data(_openai_chunk({"content": f"tok{i} "})) for i in range(events)),
        (_data(_openai_chunk({}, "stop")), _data(usage), b"data: [DONE]\n\n"),
    )


@cache
def anthropic(events: int) -> Stream:
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_bench",
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 12, "output_tokens": 1},
        },
    }
    block = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    deltas = tuple(
        _data(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}},
            "content_block_delta",
        )
        for t in (f"tok{i} " for i in range(events))
    )
    end = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": events},
    }
    return Stream(
        (_data(start, "message_start"), _data(block, "content_block_start")),
        deltas,
        (
            _data({"type": "content_block_stop", "index": 0}, "content_block_stop"),
            _data(end, "message_delta"),
            _data({"type": "message_stop"}, "message_stop"),
        ),
    )


def _gemini_event(text: str, finish: bool = False, events: int = 0) -> bytes:
    candidate: dict[str, object] = {"content": {"role": "model", "parts": [{"text": text}]}}
    if finish:
        candidate["finishReason"] = "STOP"
    payload: dict[str, object] = {"candidates": [candidate], "modelVersion": MODEL}
    if finish:
        payload["usageMetadata"] = {
            "promptTokenCount": 12,
            "candidatesTokenCount": events,
            "totalTokenCount": 12 + events,
        }
    return _data(payload)


@cache
def gemini(events: int) -> Stream:
    content = tuple(_gemini_event(f"tok{i} ") for i in range(events))
    return Stream((), content, (_gemini_event("", finish=True, events=events),))


@dataclass(frozen=True)
class Framed:
    """A Stream as HTTP/1.1 chunks: the preamble, each content event, the closing + last chunk."""

    preamble: bytes
    content: tuple[bytes, ...]
    closing: bytes

    @property
    def events(self) -> tuple[bytes, ...]:
        """Content then closing, one write each (unpaced)."""
        return (*self.content, self.closing)

    @property
    def all_at_once(self) -> tuple[bytes, ...]:
        return (self.preamble, *self.content, self.closing)


@cache
def framed(build: Callable[[int], Stream], events: int) -> Framed:
    stream = build(events)
    return Framed(
        b"".join(chunked(e) for e in stream.preamble),
        tuple(chunked(e) for e in stream.content),
        b"".join(chunked(e) for e in stream.closing) + b"0\r\n\r\n",
    )


def chunked(event: bytes) -> bytes:
    """One event framed as one HTTP/1.1 chunk."""
    return b"%x\r\n%s\r\n" % (len(event), event)
