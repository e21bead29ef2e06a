"""Canonical events → OpenAI Chat Completions chunks, ending with finish, usage and [DONE]."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from octopus.protocols import jsonio
from octopus.protocols.formats import WireFormat
from octopus.protocols.openai_chat.errors import error_body
from octopus.protocols.openai_chat.response import FINISH_OUT, encode_usage
from octopus.protocols.sse import SseEvent, framing

FMT = WireFormat.OPENAI_CHAT
_FRAME = framing()
DONE = SseEvent(data=b"[DONE]")


class ChatStreamEncoder:
    def __init__(self, model: str, *, include_usage: bool = True) -> None:
        self.losses: list[c.Loss] = []
        self._model = model
        self._include_usage = include_usage
        self._id = "chatcmpl-octopus"
        self._created = 0
        self._started = False
        self._done = False
        self._tools: dict[int, int] = {}  # canonical block index → tool_calls[].index
        self._stop: c.StopReason | None = None
        self._usage = c.Usage()
        self._text: jsonio.Slot | None = None  # the text chunk's envelope, once started

    def feed(self, event: ev.Event) -> list[SseEvent]:
        handler = _HANDLERS.get(type(event))
        return handler(self, event) if handler is not None and not self._done else []

    def close(self) -> list[SseEvent]:
        return [] if self._done else self._finish()

    def _message_start(self, event: ev.MessageStart) -> list[SseEvent]:
        self._id = event.id or self._id
        self._created = event.created
        self._text = None  # the envelope holds the id and creation time
        return self._ensure_started()

    def _ensure_started(self) -> list[SseEvent]:
        if self._started:
            return []
        self._started = True
        self._created = self._created or int(time.time())
        return [self._chunk({"role": "assistant", "content": ""})]

    def _block_start(self, event: ev.BlockStart) -> list[SseEvent]:
        block = event.block
        if not isinstance(block, c.ToolCall):
            return []
        index = self._tools[event.index] = len(self._tools)
        call = {"index": index, "id": block.id, "type": "function"}
        call["function"] = {"name": block.name, "arguments": block.arguments}
        return self._delta({"tool_calls": [call]})

    def _arguments(self, event: ev.ArgumentsDelta) -> list[SseEvent]:
        index = self._tools.get(event.index)
        if index is None:
            return []
        call = {"index": index, "function": {"arguments": event.json}}
        return self._delta({"tool_calls": [call]})

    def _opaque(self, event: ev.OpaqueDelta) -> list[SseEvent]:
        c.opaque_loss(self.losses, event.opaque.origin, FMT)
        return []

    def _message_delta(self, event: ev.MessageDelta) -> list[SseEvent]:
        if event.stop_reason is not None:
            self._stop = event.stop_reason
        if event.usage is not None:
            self._usage = event.usage
        return []

    def _error(self, event: ev.StreamError) -> list[SseEvent]:
        self._done = True
        return [SseEvent(data=jsonio.encode(error_body(event.message, event.kind)))]

    def _finish(self) -> list[SseEvent]:
        out = self._ensure_started()
        self._done = True
        finish = FINISH_OUT[self._stop or "end"]
        out.append(self._chunk({}, finish))
        if self._include_usage:
            out.append(self._envelope([], encode_usage(self._usage)))
        return [*out, DONE]

    def _delta(self, delta: dict[str, Any]) -> list[SseEvent]:
        return [*self._ensure_started(), self._chunk(delta)]

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> SseEvent:
        return self._envelope([{"index": 0, "delta": delta, "finish_reason": finish}], None)

    def _envelope(self, choices: list[dict[str, Any]], usage: dict[str, Any] | None) -> SseEvent:
        return SseEvent(data=jsonio.encode(self._body(choices, usage)))

    def _body(self, choices: list[dict[str, Any]], usage: dict[str, Any] | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "choices": choices,
        }
        if usage is not None:
            out["usage"] = usage
        return out

    def text_wire(self, event: ev.TextDelta) -> bytes | None:
        text = self._text
        return None if text is None or self._done else text.fill_wire(event.text)

    def text_frame(self, index: int) -> tuple[bytes, bytes] | None:
        text = self._text
        return None if text is None or self._done else text.wire_frame()

    def _on_text_delta(self, event: ev.TextDelta) -> list[SseEvent]:
        text = self._text
        if text is None:
            if not self._started:  # the envelope holds the id and creation time: start first
                return self._delta({"content": event.text})
            text = self._text = jsonio.Slot.around(self._text_body, frame=_FRAME)
        return [SseEvent(text.fill(event.text))]  # the usual event: only its text is encoded

    def _text_body(self, text: str) -> dict[str, Any]:
        return self._body([{"index": 0, "delta": {"content": text}, "finish_reason": None}], None)

    def _on_reasoning_delta(self, event: ev.ReasoningDelta) -> list[SseEvent]:
        return self._delta({"reasoning_content": event.text})

    def _on_message_stop(self, _: ev.MessageStop) -> list[SseEvent]:
        return self._finish()


# one table for every stream (bound methods kept per instance would make a cycle each)
_HANDLERS: dict[type, Callable[[ChatStreamEncoder, Any], list[SseEvent]]] = {
    ev.MessageStart: ChatStreamEncoder._message_start,
    ev.BlockStart: ChatStreamEncoder._block_start,
    ev.TextDelta: ChatStreamEncoder._on_text_delta,
    ev.ReasoningDelta: ChatStreamEncoder._on_reasoning_delta,
    ev.ArgumentsDelta: ChatStreamEncoder._arguments,
    ev.OpaqueDelta: ChatStreamEncoder._opaque,
    ev.MessageDelta: ChatStreamEncoder._message_delta,
    ev.MessageStop: ChatStreamEncoder._on_message_stop,
    ev.StreamError: ChatStreamEncoder._error,
}
