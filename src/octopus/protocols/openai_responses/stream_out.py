"""Canonical events → OpenAI Responses SSE: each item added and done, always a terminal event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from octopus.protocols import jsonio
from octopus.protocols.formats import WireFormat
from octopus.protocols.openai_responses.errors import failure_events
from octopus.protocols.openai_responses.response import finish_object, response_object
from octopus.protocols.sse import SseEvent, framing

FMT = WireFormat.OPENAI_RESPONSES
_TEXT_DELTA = "response.output_text.delta"
_FRAME = framing(_TEXT_DELTA)


class _Item:
    """One output item under construction."""

    def __init__(self, output_index: int, body: dict[str, Any]) -> None:
        self.output_index = output_index
        self.body = body
        self.id = str(body["id"])  # as announced in output_item.added; deltas keep using it
        self.pieces: list[str] = []  # the text or arguments so far, joined once at the end
        self.parts_open = False
        self.delta: jsonio.Slot | None = None  # its text delta event, open at number and text

    @property
    def text(self) -> str:
        return "".join(self.pieces)


class ResponsesStreamEncoder:
    def __init__(self, model: str, *, include_usage: bool = True) -> None:
        del include_usage  # response.completed always carries usage
        self.losses: list[c.Loss] = []
        self._model = model
        self._id = "resp_octopus"
        self._created = 0
        self._seq = 0
        self._started = False
        self._done = False
        self._items: dict[int, _Item] = {}  # canonical index → item
        self._output: list[tuple[int, dict[str, Any]]] = []
        self._added = 0
        self._stop: c.StopReason | None = None
        self._usage = c.Usage()

    def feed(self, event: ev.Event) -> list[SseEvent]:
        handler = _HANDLERS.get(type(event))
        return handler(self, event) if handler is not None and not self._done else []

    def close(self) -> list[SseEvent]:
        return [] if self._done else self._finish()

    def _emit(self, kind: str, **fields: Any) -> SseEvent:
        body = {"type": kind, "sequence_number": self._seq, **fields}
        self._seq += 1
        return SseEvent(data=jsonio.encode(body), event=kind)

    def _object(self, status: str) -> dict[str, Any]:
        return response_object(self._id, self._model, self._created, status, [])

    def _message_start(self, event: ev.MessageStart) -> list[SseEvent]:
        self._id = event.id if event.id.startswith("resp_") else self._id
        self._created = event.created
        return self._ensure_started()

    def _ensure_started(self) -> list[SseEvent]:
        if self._started:
            return []
        self._started = True
        return [
            self._emit("response.created", response=self._object("in_progress")),
            self._emit("response.in_progress", response=self._object("in_progress")),
        ]

    def _add_item(self, index: int, body: dict[str, Any]) -> list[SseEvent]:
        item = self._items[index] = _Item(self._added, body)
        self._added += 1
        out = self._ensure_started()
        return [
            *out,
            self._emit("response.output_item.added", output_index=item.output_index, item=body),
        ]

    def _block_start(self, event: ev.BlockStart) -> list[SseEvent]:
        n = event.index
        match event.block:
            case c.Text():
                body: dict[str, Any] = {"id": f"msg_{self._id}_{n}", "type": "message"}
                body["status"] = "in_progress"
                out = self._add_item(n, {**body, "role": "assistant", "content": []})
                return out + self._open_part(n)
            case c.ToolCall() as call:
                fields = {"call_id": call.id, "name": call.name, "arguments": ""}
                fc = {"id": f"fc_{call.id}", "type": "function_call", "status": "in_progress"}
                return self._add_item(n, {**fc, **fields})
            case c.Reasoning(opaque=opaque):
                # the upstream's own item id (a store:false client echoes it back), if known
                own = opaque.id if opaque is not None and opaque.origin == FMT else ""
                rid = own or f"rs_{self._id}_{n}"
                return self._add_item(n, {"id": rid, "type": "reasoning", "summary": []})
            case _:
                return []

    def _open_part(self, n: int) -> list[SseEvent]:
        item = self._items[n]
        item.parts_open = True
        at = {"item_id": item.id, "output_index": item.output_index}
        if item.body["type"] == "reasoning":
            part: dict[str, Any] = {"type": "summary_text", "text": ""}
            return [
                self._emit(
                    "response.reasoning_summary_part.added", **at, summary_index=0, part=part
                )
            ]
        part = {"type": "output_text", "text": "", "annotations": []}
        return [self._emit("response.content_part.added", **at, content_index=0, part=part)]

    def text_frame(self, index: int) -> tuple[bytes, bytes] | None:
        return None  # two holes (the item id, the text): every read stays with text_wire

    def text_wire(self, event: ev.TextDelta) -> bytes | None:
        taken = None if self._done else self._text_turn(event)
        return None if taken is None else taken[0].fill_pair_wire(taken[1], event.text)

    def _text(self, event: ev.TextDelta) -> list[SseEvent]:
        taken = self._text_turn(event)
        if taken is None:
            return []
        data = taken[0].fill_pair(taken[1], event.text)
        return [SseEvent(data, _TEXT_DELTA)]  # the usual event: only its number and text encoded

    def _text_turn(self, event: ev.TextDelta) -> tuple[jsonio.Slot, int] | None:
        """A text delta's envelope and sequence number (its text kept for the item's end);
        None when its item is not open."""
        item = self._items.get(event.index)
        if item is None:
            return None
        item.pieces.append(event.text)
        slot = item.delta
        if slot is None:
            slot = item.delta = jsonio.Slot.around(self._text_body(item), holes=2, frame=_FRAME)
        number, self._seq = self._seq, self._seq + 1
        return slot, number

    @staticmethod
    def _text_body(item: _Item) -> Callable[[str, str], dict[str, Any]]:
        """The text delta event of `item` (as `_emit` builds it) around a number and a text."""
        return lambda number, text: {
            "type": _TEXT_DELTA,
            "sequence_number": number,
            "item_id": item.id,
            "output_index": item.output_index,
            "content_index": 0,
            "delta": text,
            "logprobs": [],
        }

    def _reasoning(self, event: ev.ReasoningDelta) -> list[SseEvent]:
        item = self._items.get(event.index)
        if item is None:
            return []
        out = [] if item.parts_open else self._open_part(event.index)
        item.pieces.append(event.text)
        at = {"item_id": item.id, "output_index": item.output_index, "summary_index": 0}
        return [*out, self._emit("response.reasoning_summary_text.delta", **at, delta=event.text)]

    def _arguments(self, event: ev.ArgumentsDelta) -> list[SseEvent]:
        item = self._items.get(event.index)
        if item is None:
            return []
        item.pieces.append(event.json)
        at = {"item_id": item.id, "output_index": item.output_index}
        return [self._emit("response.function_call_arguments.delta", **at, delta=event.json)]

    def _opaque(self, event: ev.OpaqueDelta) -> list[SseEvent]:
        item = self._items.get(event.index)
        if event.opaque.origin != FMT:
            c.opaque_loss(self.losses, event.opaque.origin, FMT)
        elif item is not None:
            # the upstream's own item id is what a store:false client must echo back
            item.body["id"] = event.opaque.id or item.body["id"]
            if event.opaque.data:
                item.body["encrypted_content"] = event.opaque.data
        return []

    def _block_stop(self, index: int) -> list[SseEvent]:
        item = self._items.pop(index, None)
        if item is None:
            return []
        kind, text = item.body["type"], item.text
        at = {"item_id": item.id, "output_index": item.output_index}
        out: list[SseEvent] = []
        if kind == "message":
            part = {"type": "output_text", "text": text, "annotations": []}
            out.append(
                self._emit(
                    "response.output_text.done", **at, content_index=0, text=text, logprobs=[]
                )
            )
            out.append(self._emit("response.content_part.done", **at, content_index=0, part=part))
            item.body["content"] = [part]
        elif kind == "function_call":
            out.append(self._emit("response.function_call_arguments.done", **at, arguments=text))
            item.body["arguments"] = text
        elif item.parts_open:
            part = {"type": "summary_text", "text": text}
            out.append(
                self._emit("response.reasoning_summary_text.done", **at, summary_index=0, text=text)
            )
            out.append(
                self._emit("response.reasoning_summary_part.done", **at, summary_index=0, part=part)
            )
            item.body["summary"] = [part]
        if kind != "reasoning":
            item.body["status"] = "completed"
        self._output.append((item.output_index, item.body))
        return [
            *out,
            self._emit("response.output_item.done", output_index=item.output_index, item=item.body),
        ]

    def _message_delta(self, event: ev.MessageDelta) -> list[SseEvent]:
        self._stop = event.stop_reason or self._stop
        if event.usage is not None:
            self._usage = event.usage
        return []

    def _finish(self) -> list[SseEvent]:
        out = self._ensure_started()
        for index in sorted(self._items):
            out += self._block_stop(index)
        self._done = True
        obj = self._object("completed")
        obj["output"] = [body for _, body in sorted(self._output, key=lambda p: p[0])]
        finish_object(obj, self._stop or "end", self._usage)
        kind = "response.completed" if obj["status"] == "completed" else "response.incomplete"
        return [*out, self._emit(kind, response=obj)]

    def _error(self, event: ev.StreamError) -> list[SseEvent]:
        out = self._ensure_started()
        self._done = True
        return out + failure_events(event.message, event.kind, self._id, self._model, self._seq)

    def _on_block_stop(self, event: ev.BlockStop) -> list[SseEvent]:
        return self._block_stop(event.index)

    def _on_message_stop(self, _: ev.MessageStop) -> list[SseEvent]:
        return self._finish()


# one table for every stream (bound methods kept per instance would make a cycle each)
_HANDLERS: dict[type, Callable[[ResponsesStreamEncoder, Any], list[SseEvent]]] = {
    ev.MessageStart: ResponsesStreamEncoder._message_start,
    ev.BlockStart: ResponsesStreamEncoder._block_start,
    ev.TextDelta: ResponsesStreamEncoder._text,
    ev.ReasoningDelta: ResponsesStreamEncoder._reasoning,
    ev.ArgumentsDelta: ResponsesStreamEncoder._arguments,
    ev.OpaqueDelta: ResponsesStreamEncoder._opaque,
    ev.BlockStop: ResponsesStreamEncoder._on_block_stop,
    ev.MessageDelta: ResponsesStreamEncoder._message_delta,
    ev.MessageStop: ResponsesStreamEncoder._on_message_stop,
    ev.StreamError: ResponsesStreamEncoder._error,
}
