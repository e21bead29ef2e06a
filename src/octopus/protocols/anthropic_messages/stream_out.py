"""Canonical events → Anthropic Messages SSE, always closed by message_delta and message_stop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from octopus.protocols import jsonio
from octopus.protocols.anthropic_messages.errors import error_event
from octopus.protocols.anthropic_messages.response import STOP_OUT, encode_usage
from octopus.protocols.formats import WireFormat
from octopus.protocols.sse import SseEvent, framing

FMT = WireFormat.ANTHROPIC
_TEXT_FRAME = framing("content_block_delta")


def _sse(kind: str, body: dict[str, Any]) -> SseEvent:
    return SseEvent(data=jsonio.encode({"type": kind, **body}), event=kind)


def _text_slot(wire: int) -> jsonio.Slot:
    return jsonio.Slot.around(
        lambda text: {
            "type": "content_block_delta",
            "index": wire,
            "delta": {"type": "text_delta", "text": text},
        },
        frame=_TEXT_FRAME,
    )


class MessagesStreamEncoder:
    def __init__(self, model: str, *, include_usage: bool = True) -> None:
        del include_usage  # Anthropic streams always carry usage
        self.losses: list[c.Loss] = []
        self._model = model
        self._id = "msg_octopus"
        self._started = False
        self._done = False
        self._wire: dict[int, int] = {}  # canonical index → wire index
        self._open: set[int] = set()
        self._stop: c.StopReason | None = None
        self._stop_sequence: str | None = None
        self._usage = c.Usage()
        self._text: dict[int, jsonio.Slot] = {}  # a text delta's envelope per wire index

    def feed(self, event: ev.Event) -> list[SseEvent]:
        handler = _HANDLERS.get(type(event))
        return handler(self, event) if handler is not None and not self._done else []

    def close(self) -> list[SseEvent]:
        return [] if self._done else self._finish()

    def _message_start(self, event: ev.MessageStart) -> list[SseEvent]:
        self._id = event.id or self._id
        if event.usage is not None:
            self._usage = event.usage
        return self._ensure_started()

    def _ensure_started(self) -> list[SseEvent]:
        if self._started:
            return []
        self._started = True
        message: dict[str, Any] = {
            "id": self._id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": encode_usage(self._usage),
        }
        return [_sse("message_start", {"message": message})]

    def _block_start(self, event: ev.BlockStart) -> list[SseEvent]:
        block = _start_block(event.block, self.losses)
        if block is None:
            return []
        wire = self._wire[event.index] = len(self._wire)
        self._open.add(wire)
        body = {"index": wire, "content_block": block}
        return [*self._ensure_started(), _sse("content_block_start", body)]

    def _reasoning(self, event: ev.ReasoningDelta) -> list[SseEvent]:
        return self._delta(event.index, {"type": "thinking_delta", "thinking": event.text})

    def _arguments(self, event: ev.ArgumentsDelta) -> list[SseEvent]:
        return self._delta(event.index, {"type": "input_json_delta", "partial_json": event.json})

    def _opaque(self, event: ev.OpaqueDelta) -> list[SseEvent]:
        opaque = event.opaque
        if opaque.origin != FMT:
            c.opaque_loss(self.losses, opaque.origin, FMT)
            return []
        if opaque.redacted:  # redacted thinking travels in its block start
            return []
        return self._delta(event.index, {"type": "signature_delta", "signature": opaque.data})

    def _delta(self, index: int, delta: dict[str, Any]) -> list[SseEvent]:
        wire = self._wire.get(index)
        if wire is None:
            return []
        return [_sse("content_block_delta", {"index": wire, "delta": delta})]

    def _block_stop(self, event: ev.BlockStop) -> list[SseEvent]:
        wire = self._wire.get(event.index)
        if wire is None or wire not in self._open:
            return []
        self._open.discard(wire)
        return [_sse("content_block_stop", {"index": wire})]

    def _message_delta(self, event: ev.MessageDelta) -> list[SseEvent]:
        self._stop = event.stop_reason or self._stop
        self._stop_sequence = event.stop_sequence or self._stop_sequence
        if event.usage is not None:
            self._usage = event.usage
        return []

    def _finish(self) -> list[SseEvent]:
        out = self._ensure_started()
        self._done = True
        out += [_sse("content_block_stop", {"index": i}) for i in sorted(self._open)]
        delta = {"stop_reason": STOP_OUT[self._stop or "end"], "stop_sequence": self._stop_sequence}
        out.append(_sse("message_delta", {"delta": delta, "usage": encode_usage(self._usage)}))
        return [*out, _sse("message_stop", {})]

    def _error(self, event: ev.StreamError) -> list[SseEvent]:
        self._done = True
        return [*self._ensure_started(), error_event(event.message, event.kind)]

    def text_wire(self, event: ev.TextDelta) -> bytes | None:
        slot = None if self._done else self._text_slot(event.index)
        return None if slot is None else slot.fill_wire(event.text)

    def text_frame(self, index: int) -> tuple[bytes, bytes] | None:
        slot = None if self._done else self._text_slot(index)
        return None if slot is None else slot.wire_frame()

    def _on_text_delta(self, event: ev.TextDelta) -> list[SseEvent]:
        slot = self._text_slot(event.index)
        if slot is None:
            return []
        return [SseEvent(slot.fill(event.text), "content_block_delta")]  # only the text encoded

    def _text_slot(self, index: int) -> jsonio.Slot | None:
        """The text delta envelope of an open block (None: the delta has no block to go in)."""
        wire = self._wire.get(index)
        if wire is None:
            return None
        slot = self._text.get(wire)
        if slot is None:
            slot = self._text[wire] = _text_slot(wire)
        return slot

    def _on_message_stop(self, _: ev.MessageStop) -> list[SseEvent]:
        return self._finish()


# one table for every stream (bound methods kept per instance would make a cycle each)
_HANDLERS: dict[type, Callable[[MessagesStreamEncoder, Any], list[SseEvent]]] = {
    ev.MessageStart: MessagesStreamEncoder._message_start,
    ev.BlockStart: MessagesStreamEncoder._block_start,
    ev.TextDelta: MessagesStreamEncoder._on_text_delta,
    ev.ReasoningDelta: MessagesStreamEncoder._reasoning,
    ev.ArgumentsDelta: MessagesStreamEncoder._arguments,
    ev.OpaqueDelta: MessagesStreamEncoder._opaque,
    ev.BlockStop: MessagesStreamEncoder._block_stop,
    ev.MessageDelta: MessagesStreamEncoder._message_delta,
    ev.MessageStop: MessagesStreamEncoder._on_message_stop,
    ev.StreamError: MessagesStreamEncoder._error,
}


def _start_block(block: c.Block, losses: list[c.Loss]) -> dict[str, Any] | None:
    match block:
        case c.Text():
            return {"type": "text", "text": ""}
        case c.ToolCall():
            return {"type": "tool_use", "id": block.id, "name": block.name, "input": {}}
        case c.Reasoning() if block.opaque is not None and block.opaque.redacted:
            if block.opaque.origin == FMT:
                return {"type": "redacted_thinking", "data": block.opaque.data}
            c.opaque_loss(losses, block.opaque.origin, FMT)
            return None
        case c.Reasoning():
            return {"type": "thinking", "thinking": "", "signature": ""}
        case _:
            return None
