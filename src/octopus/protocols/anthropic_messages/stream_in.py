"""Anthropic Messages SSE → canonical events: almost one-to-one, with unknown blocks skipped."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from octopus.protocols.anthropic_messages import wire as w
from octopus.protocols.anthropic_messages.errors import in_band_error
from octopus.protocols.anthropic_messages.response import STOP_IN, decode_usage, merge_usage
from octopus.protocols.formats import WireFormat
from octopus.protocols.sse import SseEvent

FMT = WireFormat.ANTHROPIC
_EVENT = msgspec.json.Decoder(w.StreamEvent)


class MessagesStreamDecoder:
    def __init__(self) -> None:
        self._finished = False
        self._stopped = False
        self._indices: dict[int, int] = {}  # wire index → canonical index (skipped blocks absent)
        self._usage = w.Usage()

    def feed(self, event: SseEvent) -> list[ev.Event]:
        raw = event.data
        if self._finished or (raw[:1] != b"{" and not raw.strip()):  # an event needs no strip
            return []
        try:
            data = _EVENT.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return self._fail(ev.StreamError("unreadable event from upstream", 502, "upstream"))
        handler = _HANDLERS.get(data.type)
        return handler(self, data) if handler is not None else []

    def close(self) -> list[ev.Event]:
        if self._finished:
            return []
        if not self._stopped:
            return self._fail(
                ev.StreamError("upstream stream ended before completion", 502, "upstream")
            )
        self._finished = True
        return [ev.MessageStop()]

    def _message_start(self, data: w.StreamEvent) -> list[ev.Event]:
        msg = data.message or w.Response()
        self._usage = msg.usage or w.Usage()
        usage = decode_usage(self._usage)
        return [ev.MessageStart(msg.id or "", msg.model or "", 0, usage)]

    def _block_start(self, data: w.StreamEvent) -> list[ev.Event]:
        block = data.content_block
        if block is None or data.index is None:
            return []
        opening = _opening(block)
        if opening is None:
            return []
        index = self._indices[data.index] = len(self._indices)
        out: list[ev.Event] = [ev.BlockStart(index, opening)]
        if block.type == "text" and block.text:
            out.append(ev.TextDelta(index, block.text))
        if block.type == "tool_use" and block.input:
            out.append(ev.ArgumentsDelta(index, msgspec.json.encode(block.input).decode()))
        return out

    def _block_delta(self, data: w.StreamEvent) -> list[ev.Event]:
        index = self._indices.get(data.index if data.index is not None else -1)
        delta = data.delta
        if index is None or delta is None:
            return []
        if delta.type == "text_delta" and delta.text:
            return [ev.TextDelta(index, delta.text)]
        if delta.type == "input_json_delta" and delta.partial_json:
            return [ev.ArgumentsDelta(index, delta.partial_json)]
        if delta.type == "thinking_delta" and delta.thinking:
            return [ev.ReasoningDelta(index, delta.thinking)]
        if delta.type == "signature_delta" and delta.signature:
            return [ev.OpaqueDelta(index, c.OpaqueState(FMT, delta.signature))]
        return []

    def _block_stop(self, data: w.StreamEvent) -> list[ev.Event]:
        index = self._indices.get(data.index if data.index is not None else -1)
        return [] if index is None else [ev.BlockStop(index)]

    def _message_delta(self, data: w.StreamEvent) -> list[ev.Event]:
        if data.usage is not None:
            self._usage = merge_usage(self._usage, data.usage)
        delta = data.delta or w.Delta()
        stop = STOP_IN.get(delta.stop_reason, "end") if delta.stop_reason else None
        self._stopped = self._stopped or stop is not None
        usage = decode_usage(self._usage)
        return [ev.MessageDelta(stop, delta.stop_sequence, usage)]

    def _message_stop(self, data: w.StreamEvent) -> list[ev.Event]:
        self._finished = True
        out: list[ev.Event] = []
        if not self._stopped:
            out.append(ev.MessageDelta("end", None, decode_usage(self._usage)))
        return [*out, ev.MessageStop()]

    def _error(self, data: w.StreamEvent) -> list[ev.Event]:
        err = in_band_error(data.error or w.ErrorBody())
        return self._fail(ev.StreamError.from_error(err))

    def _fail(self, error: ev.StreamError) -> list[ev.Event]:
        self._finished = True
        return [error]


# one table for every stream (bound methods kept per instance would make a cycle each)
_HANDLERS: dict[str, Callable[[MessagesStreamDecoder, w.StreamEvent], list[ev.Event]]] = {
    "message_start": MessagesStreamDecoder._message_start,
    "content_block_start": MessagesStreamDecoder._block_start,
    "content_block_delta": MessagesStreamDecoder._block_delta,
    "content_block_stop": MessagesStreamDecoder._block_stop,
    "message_delta": MessagesStreamDecoder._message_delta,
    "message_stop": MessagesStreamDecoder._message_stop,
    "error": MessagesStreamDecoder._error,
}


def _opening(block: w.Block) -> c.Block | None:
    """The empty canonical shell for a block start; None for types we skip (server tools…)."""
    if block.type == "text":
        return c.Text("")
    if block.type == "tool_use":
        return c.ToolCall(block.id or "", block.name or "", "")
    if block.type == "thinking":
        return c.Reasoning()
    if block.type == "redacted_thinking":
        return c.Reasoning("", c.OpaqueState(FMT, block.data or "", redacted=True))
    return None
