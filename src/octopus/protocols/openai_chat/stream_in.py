"""OpenAI Chat Completions chunks → canonical events (one open block at a time, index-tracked)."""

from __future__ import annotations

import msgspec

from octopus.errors import ErrorKind
from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from octopus.protocols.openai_chat import wire as w
from octopus.protocols.openai_chat.response import FINISH_IN, decode_usage
from octopus.protocols.sse import SseEvent

_DONE = b"[DONE]"
_CHUNK = msgspec.json.Decoder(w.Chunk)
_LATER = msgspec.json.Decoder(w.ChunkBody)  # once started: no strings built for repeated ids


class ChatStreamDecoder:
    def __init__(self) -> None:
        self._started = False
        self._finished = False
        self._next = 0
        self._open: int | None = None
        self._open_kind = ""
        self._tools: dict[int, int] = {}  # wire tool_calls[].index → canonical block index
        self._ids: dict[int, str] = {}  # canonical block index → tool call id
        self._stop: c.StopReason | None = None

    def feed(self, event: SseEvent) -> list[ev.Event]:
        data = event.data
        if self._finished:
            return []
        if data[:1] != b"{":  # a chunk's JSON object needs no strip (the decoder skips spaces)
            data = data.strip()
            if not data or data == _DONE:
                return self._finish() if data else []
        try:
            chunk = _LATER.decode(data) if self._started else _CHUNK.decode(data)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return self._fail("unreadable chunk from upstream")
        if chunk.error is not None:
            return self._fail(chunk.error.message or "upstream stream error", chunk.error.type)
        out: list[ev.Event] = []
        if not self._started and isinstance(chunk, w.Chunk):
            out = self._start(chunk)
        for choice in chunk.choices or ():
            if choice.index == 0:
                self._choice(choice, out)
        if chunk.usage is not None:
            out.append(ev.MessageDelta(usage=decode_usage(chunk.usage)))
        return out

    def close(self) -> list[ev.Event]:
        if self._finished:
            return []
        if self._stop is None:
            return self._fail("upstream stream ended before completion")
        return self._finish()

    def _start(self, chunk: w.Chunk) -> list[ev.Event]:
        if not chunk.id and not chunk.choices and chunk.usage is None:
            return []  # Azure opens with an anonymous prompt_filter_results chunk
        self._started = True
        return [ev.MessageStart(chunk.id or "", chunk.model or "", chunk.created or 0)]

    def _choice(self, choice: w.ChunkChoice, out: list[ev.Event]) -> None:
        """The events of the first choice's delta, appended to `out`."""
        delta = choice.delta
        if delta is not None:
            reasoning = delta.reasoning_content or delta.reasoning
            if reasoning:
                out += self._ensure("reasoning", c.Reasoning())
                out.append(ev.ReasoningDelta(self._next - 1, reasoning))
            text = delta.content or delta.refusal
            if text:
                if self._open is None or self._open_kind != "text":
                    out += self._ensure("text", c.Text(""))
                out.append(ev.TextDelta(self._next - 1, text))
            for call in delta.tool_calls or ():
                out += self._tool_call(call)
        if choice.finish_reason:
            out += self._close_open()
            self._stop = FINISH_IN.get(choice.finish_reason, "end")
            out.append(ev.MessageDelta(stop_reason=self._stop))

    def _tool_call(self, call: w.ToolCallDelta) -> list[ev.Event]:
        out: list[ev.Event] = []
        fn = call.function or w.FunctionDelta()
        index = self._tools.get(call.index)
        # some providers reuse index 0 for every parallel call: a new id means a new call
        if index is None or (call.id and call.id != self._ids.get(index)):
            out += self._close_open()
            index = self._open_block("tool")
            self._tools[call.index] = index
            self._ids[index] = call.id or ""
            out.append(ev.BlockStart(index, c.ToolCall(call.id or "", fn.name or "", "")))
        if fn.arguments:
            out.append(ev.ArgumentsDelta(index, fn.arguments))
        return out

    def _ensure(self, kind: str, shell: c.Block) -> list[ev.Event]:
        if self._open is not None and self._open_kind == kind:
            return []
        out = self._close_open()
        index = self._open_block(kind)
        return [*out, ev.BlockStart(index, shell)]

    def _open_block(self, kind: str) -> int:
        index = self._next
        self._next += 1
        self._open, self._open_kind = index, kind
        return index

    def _close_open(self) -> list[ev.Event]:
        if self._open is None:
            return []
        index, self._open = self._open, None
        return [ev.BlockStop(index)]

    def _finish(self) -> list[ev.Event]:
        out = [*self._close_open()]
        if self._stop is None:
            out.append(ev.MessageDelta(stop_reason="end"))
        self._finished = True
        return [*out, ev.MessageStop()]

    def _fail(self, message: str, kind: str | None = None) -> list[ev.Event]:
        self._finished = True
        status = 429 if kind in ("rate_limit_exceeded", "tokens", "requests") else 502
        error_kind = ErrorKind.RATE_LIMIT if status == 429 else ErrorKind.UPSTREAM
        return [*self._close_open(), ev.StreamError(message, status, error_kind.value)]
