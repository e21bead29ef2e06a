"""Canonical events → Gemini SSE chunks; calls go out whole, the last chunk has finishReason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from octopus.protocols import jsonio
from octopus.protocols.formats import WireFormat
from octopus.protocols.gemini.errors import error_body
from octopus.protocols.gemini.response import FINISH_OUT, encode_usage
from octopus.protocols.sse import SseEvent, framing

FMT = WireFormat.GEMINI
_FRAME = framing()


class GeminiStreamEncoder:
    def __init__(self, model: str, *, include_usage: bool = True) -> None:
        self.losses: list[c.Loss] = []
        self._model = model
        self._include_usage = include_usage
        self._id = ""
        self._done = False
        # calls buffer their arguments until they stop (pieces, joined once: no quadratic +=)
        self._calls: dict[int, tuple[c.ToolCall, list[str]]] = {}
        self._signature: str | None = None
        self._stop: c.StopReason | None = None
        self._usage = c.Usage()
        self._text: jsonio.Slot | None = None  # a text chunk's envelope

    def feed(self, event: ev.Event) -> list[SseEvent]:
        handler = _HANDLERS.get(type(event))
        return handler(self, event) if handler is not None and not self._done else []

    def close(self) -> list[SseEvent]:
        return [] if self._done else self._finish()

    def _message_start(self, event: ev.MessageStart) -> list[SseEvent]:
        self._id = event.id
        self._text = None  # the envelope holds the response id
        return []

    def _block_start(self, event: ev.BlockStart) -> list[SseEvent]:
        if isinstance(event.block, c.ToolCall):
            self._calls[event.index] = (event.block, [])
        return []

    def _arguments(self, event: ev.ArgumentsDelta) -> list[SseEvent]:
        call = self._calls.get(event.index)
        if call is not None:
            call[1].append(event.json)
        return []

    def _opaque(self, event: ev.OpaqueDelta) -> list[SseEvent]:
        if event.opaque.origin == FMT:
            self._signature = event.opaque.data
        else:
            c.opaque_loss(self.losses, event.opaque.origin, FMT)
        return []

    def _block_stop(self, event: ev.BlockStop) -> list[SseEvent]:
        found = self._calls.pop(event.index, None)
        if found is None:
            return []
        call, pieces = found
        args = jsonio.object_or_empty("".join(pieces))
        return self._chunk([{"functionCall": {"id": call.id, "name": call.name, "args": args}}])

    def _message_delta(self, event: ev.MessageDelta) -> list[SseEvent]:
        self._stop = event.stop_reason or self._stop
        if event.usage is not None:
            self._usage = event.usage
        return []

    def _chunk(self, parts: list[dict[str, Any]], final: bool = False) -> list[SseEvent]:
        if self._signature is not None and parts:
            parts[0]["thoughtSignature"] = self._signature
            self._signature = None
        return [SseEvent(data=jsonio.encode(self._body(parts, final)))]

    def _body(self, parts: list[dict[str, Any]], final: bool = False) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        out: dict[str, Any] = {"candidates": [candidate]}
        if final:
            candidate["finishReason"] = FINISH_OUT[self._stop or "end"]
            if self._include_usage:
                out["usageMetadata"] = encode_usage(self._usage)
        out["modelVersion"] = self._model
        if self._id:
            out["responseId"] = self._id
        return out

    def _finish(self) -> list[SseEvent]:
        out: list[SseEvent] = []
        for index in sorted(self._calls):
            out += self._block_stop(ev.BlockStop(index))
        self._done = True
        return out + self._chunk([{"text": ""}], final=True)

    def _error(self, event: ev.StreamError) -> list[SseEvent]:
        self._done = True
        return [SseEvent(data=jsonio.encode(error_body(event.message, event.kind, event.status)))]

    def text_wire(self, event: ev.TextDelta) -> bytes | None:
        slot = self._text
        if slot is None or self._done or self._signature is not None:
            return None
        return slot.fill_wire(event.text)

    def text_frame(self, index: int) -> tuple[bytes, bytes] | None:
        slot = self._text
        if slot is None or self._done or self._signature is not None:
            return None
        return slot.wire_frame()

    def _on_text_delta(self, event: ev.TextDelta) -> list[SseEvent]:
        if self._signature is not None:  # a pending signature rides on this part
            return self._chunk([{"text": event.text}])
        slot = self._text
        if slot is None:
            slot = self._text = jsonio.Slot.around(
                lambda text: self._body([{"text": text}]), frame=_FRAME
            )
        return [SseEvent(slot.fill(event.text))]  # the usual event: only its text encoded

    def _on_reasoning_delta(self, event: ev.ReasoningDelta) -> list[SseEvent]:
        return self._chunk([{"text": event.text, "thought": True}])

    def _on_message_stop(self, _: ev.MessageStop) -> list[SseEvent]:
        return self._finish()


# one table for every stream (bound methods kept per instance would make a cycle each)
_HANDLERS: dict[type, Callable[[GeminiStreamEncoder, Any], list[SseEvent]]] = {
    ev.MessageStart: GeminiStreamEncoder._message_start,
    ev.BlockStart: GeminiStreamEncoder._block_start,
    ev.TextDelta: GeminiStreamEncoder._on_text_delta,
    ev.ReasoningDelta: GeminiStreamEncoder._on_reasoning_delta,
    ev.ArgumentsDelta: GeminiStreamEncoder._arguments,
    ev.OpaqueDelta: GeminiStreamEncoder._opaque,
    ev.BlockStop: GeminiStreamEncoder._block_stop,
    ev.MessageDelta: GeminiStreamEncoder._message_delta,
    ev.MessageStop: GeminiStreamEncoder._on_message_stop,
    ev.StreamError: GeminiStreamEncoder._error,
}
