"""OpenAI Responses SSE → canonical events, keyed by output_index (and content/summary index)."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from octopus.protocols.formats import WireFormat
from octopus.protocols.openai_responses import wire as w
from octopus.protocols.openai_responses.errors import in_band_error
from octopus.protocols.openai_responses.response import decode_usage, stop_of
from octopus.protocols.sse import SseEvent

FMT = WireFormat.OPENAI_RESPONSES
_EVENT = msgspec.json.Decoder(w.StreamEvent)
Key = tuple[int, int]  # (output_index, content or summary index)


class ResponsesStreamDecoder:
    def __init__(self) -> None:
        self._started = False
        self._finished = False
        self._next = 0
        self._blocks: dict[Key, int] = {}  # wire position → canonical index
        self._open: set[int] = set()
        self._with_args: set[int] = set()
        self._calls = False

    def feed(self, event: SseEvent) -> list[ev.Event]:
        if self._finished or not event.data.strip():
            return []
        try:
            data = _EVENT.decode(event.data)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return self._fail(ev.StreamError("unreadable event from upstream", 502, "upstream"))
        handler = _HANDLERS.get(data.type)
        out = [] if self._started else self._created(data)
        return out + handler(self, data) if handler is not None else out

    def close(self) -> list[ev.Event]:
        if self._finished:
            return []
        return self._fail(
            ev.StreamError("upstream stream ended before completion", 502, "upstream")
        )

    def _created(self, data: w.StreamEvent) -> list[ev.Event]:
        if self._started:
            return []
        self._started = True
        resp = data.response or w.Response()
        return [ev.MessageStart(resp.id or "", resp.model or "", resp.created_at or 0)]

    def _open_block(self, key: Key, shell: c.Block) -> tuple[int, list[ev.Event]]:
        index = self._blocks[key] = self._next
        self._next += 1
        self._open.add(index)
        return index, [ev.BlockStart(index, shell)]

    def _stop(self, index: int | None) -> list[ev.Event]:
        if index is None or index not in self._open:
            return []
        self._open.discard(index)
        return [ev.BlockStop(index)]

    def _item_added(self, data: w.StreamEvent) -> list[ev.Event]:
        item = data.item
        if item is None or item.type != "function_call":
            return []
        self._calls = True
        shell = c.ToolCall(item.call_id or item.id or "", item.name or "", "")
        index, out = self._open_block((data.output_index or 0, -1), shell)
        if item.arguments:
            self._with_args.add(index)
            out.append(ev.ArgumentsDelta(index, item.arguments))
        return out

    def _part_added(self, data: w.StreamEvent) -> list[ev.Event]:
        part = data.part
        key = (data.output_index or 0, data.content_index or 0)
        if part is None or part.type not in ("output_text", "refusal") or key in self._blocks:
            return []
        return self._open_block(key, c.Text(""))[1]

    def _text(self, data: w.StreamEvent) -> list[ev.Event]:
        key = (data.output_index or 0, data.content_index or 0)
        out: list[ev.Event] = [] if key in self._blocks else self._open_block(key, c.Text(""))[1]
        if data.delta:
            out.append(ev.TextDelta(self._blocks[key], data.delta))
        return out

    def _part_done(self, data: w.StreamEvent) -> list[ev.Event]:
        key = (data.output_index or 0, data.content_index or 0)
        if data.part is not None and data.part.type == "reasoning_text":
            return []  # reasoning closes with its item, which may still add encrypted content
        return self._stop(self._blocks.get(key))

    def _summary_added(self, data: w.StreamEvent) -> list[ev.Event]:
        output = data.output_index or 0
        previous = self._blocks.get((output, (data.summary_index or 0) - 1))
        key = (output, data.summary_index or 0)
        if key in self._blocks:
            return []
        return [*self._stop(previous), *self._open_block(key, c.Reasoning())[1]]

    def _reasoning(self, data: w.StreamEvent) -> list[ev.Event]:
        key = (data.output_index or 0, data.summary_index or data.content_index or 0)
        out: list[ev.Event] = [] if key in self._blocks else self._open_block(key, c.Reasoning())[1]
        if data.delta:
            out.append(ev.ReasoningDelta(self._blocks[key], data.delta))
        return out

    def _arguments(self, data: w.StreamEvent) -> list[ev.Event]:
        index = self._blocks.get((data.output_index or 0, -1))
        if index is None or not data.delta:
            return []
        self._with_args.add(index)
        return [ev.ArgumentsDelta(index, data.delta)]

    def _item_done(self, data: w.StreamEvent) -> list[ev.Event]:
        item = data.item or w.Item()
        output = data.output_index or 0
        if item.type == "function_call":
            index = self._blocks.get((output, -1))
            out: list[ev.Event] = []
            if index is not None and index not in self._with_args and item.arguments:
                out.append(ev.ArgumentsDelta(index, item.arguments))
            return out + self._stop(index)
        if item.type == "reasoning":
            return self._reasoning_done(output, item)
        keys = sorted(k for k in self._blocks if k[0] == output)
        return [e for k in keys for e in self._stop(self._blocks[k])]

    def _reasoning_done(self, output: int, item: w.Item) -> list[ev.Event]:
        keys = sorted(k for k in self._blocks if k[0] == output)
        out: list[ev.Event] = []
        if not keys:  # no summary was streamed: the item is only its encrypted state
            _, out = self._open_block((output, 0), c.Reasoning())
            keys = [(output, 0)]
        last = self._blocks[keys[-1]]
        if item.encrypted_content or item.id:
            opaque = c.OpaqueState(FMT, item.encrypted_content or "", id=item.id or "")
            out.append(ev.OpaqueDelta(last, opaque))
        return out + [e for k in keys for e in self._stop(self._blocks[k])]

    def _completed(self, data: w.StreamEvent) -> list[ev.Event]:
        resp = data.response or w.Response()
        out = [e for i in sorted(self._open) for e in self._stop(i)]
        usage = decode_usage(resp.usage) if resp.usage is not None else None
        self._finished = True
        return [*out, ev.MessageDelta(stop_of(resp, self._calls), None, usage), ev.MessageStop()]

    def _failed(self, data: w.StreamEvent) -> list[ev.Event]:
        err = in_band_error(data)
        return self._fail(ev.StreamError.from_error(err))

    def _fail(self, error: ev.StreamError) -> list[ev.Event]:
        self._finished = True
        return [*[e for i in sorted(self._open) for e in self._stop(i)], error]


# one table for every stream (bound methods kept per instance would make a cycle each)
_HANDLERS: dict[str, Callable[[ResponsesStreamDecoder, w.StreamEvent], list[ev.Event]]] = {
    "response.created": ResponsesStreamDecoder._created,
    "response.output_item.added": ResponsesStreamDecoder._item_added,
    "response.content_part.added": ResponsesStreamDecoder._part_added,
    "response.output_text.delta": ResponsesStreamDecoder._text,
    "response.refusal.delta": ResponsesStreamDecoder._text,
    "response.content_part.done": ResponsesStreamDecoder._part_done,
    "response.reasoning_summary_part.added": ResponsesStreamDecoder._summary_added,
    "response.reasoning_summary_text.delta": ResponsesStreamDecoder._reasoning,
    "response.reasoning_text.delta": ResponsesStreamDecoder._reasoning,
    "response.function_call_arguments.delta": ResponsesStreamDecoder._arguments,
    "response.output_item.done": ResponsesStreamDecoder._item_done,
    "response.completed": ResponsesStreamDecoder._completed,
    "response.incomplete": ResponsesStreamDecoder._completed,
    "response.failed": ResponsesStreamDecoder._failed,
    "error": ResponsesStreamDecoder._failed,
}
