"""Gemini streamGenerateContent chunks → canonical events: text runs, whole or partial calls."""

from __future__ import annotations

from typing import Any

import msgspec

from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from octopus.protocols import jsonio
from octopus.protocols.formats import WireFormat
from octopus.protocols.gemini import wire as w
from octopus.protocols.gemini.errors import in_band_error
from octopus.protocols.gemini.parts import new_call_id
from octopus.protocols.gemini.response import decode_usage, stop_of
from octopus.protocols.sse import SseEvent

FMT = WireFormat.GEMINI
_CHUNK = msgspec.json.Decoder(w.Response)
_LATER = msgspec.json.Decoder(w.ResponseBody)  # once started: no strings built for repeated ids


class GeminiStreamDecoder:
    def __init__(self) -> None:
        self._started = False
        self._finished = False
        self._stopped = False
        self._next = 0
        self._open: int | None = None
        self._open_kind = ""
        self._calls = False
        self._usage: c.Usage | None = None
        self._partial: dict[str, Any] | None = None  # arguments of a call streamed by partialArgs

    def feed(self, event: SseEvent) -> list[ev.Event]:
        data = event.data
        if self._finished or (data[:1] != b"{" and not data.strip()):  # a chunk needs no strip
            return []
        try:
            chunk = _LATER.decode(data) if self._started else _CHUNK.decode(data)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return self._fail(ev.StreamError("unreadable chunk from upstream", 502, "upstream"))
        if chunk.error is not None:
            return self._fail(ev.StreamError.from_error(in_band_error(chunk.error)))
        out: list[ev.Event] = []
        if not self._started and isinstance(chunk, w.Response):
            out = self._start(chunk)
        if chunk.usage_metadata is not None:
            self._usage = decode_usage(chunk.usage_metadata)
        if chunk.candidates:
            self._candidate(chunk.candidates[0], out)
        elif chunk.prompt_feedback is not None and chunk.prompt_feedback.block_reason:
            out += self._finish("content_filter")
        elif self._stopped and chunk.usage_metadata is not None:
            out.append(ev.MessageDelta(usage=self._usage))
        return out

    def _candidate(self, candidate: w.Candidate, out: list[ev.Event]) -> None:
        """The first candidate's parts and finish, appended to `out`."""
        content = candidate.content
        for part in (content.parts if content is not None else None) or ():
            out += self._part(part)
        if candidate.finish_reason:
            out += self._finish(stop_of(candidate.finish_reason, self._calls))

    def close(self) -> list[ev.Event]:
        if self._finished:
            return []
        if not self._stopped:
            return self._fail(
                ev.StreamError("upstream stream ended before completion", 502, "upstream")
            )
        self._finished = True
        return [ev.MessageStop()]

    def _start(self, chunk: w.Response) -> list[ev.Event]:
        self._started = True
        return [ev.MessageStart(chunk.response_id or "", chunk.model_version or "")]

    def _part(self, part: w.Part) -> list[ev.Event]:
        if part.function_call is not None:
            return self._signature(part) + self._call(part.function_call)
        if part.thought:
            out = self._run("reasoning", part.text or "")
            if part.thought_signature and self._open is not None:
                out.append(ev.OpaqueDelta(self._open, c.OpaqueState(FMT, part.thought_signature)))
            return out
        if part.text is not None:
            if part.thought_signature:
                return self._signature(part) + self._run("text", part.text)
            return self._run("text", part.text)
        return []

    def _run(self, kind: str, text: str) -> list[ev.Event]:
        """Text and thoughts come in runs: a run stays one block until the kind changes."""
        if not text:
            return []
        index = self._open
        if index is not None and self._open_kind == kind:  # the usual delta: the run goes on
            return [ev.TextDelta(index, text) if kind == "text" else ev.ReasoningDelta(index, text)]
        out = self._close()
        index = self._new(kind)
        if kind == "text":
            return [*out, ev.BlockStart(index, c.Text("")), ev.TextDelta(index, text)]
        return [*out, ev.BlockStart(index, c.Reasoning()), ev.ReasoningDelta(index, text)]

    def _signature(self, part: w.Part) -> list[ev.Event]:
        """A signature on a non-thought part becomes an empty reasoning block before it."""
        if not part.thought_signature:
            return []
        out = self._close()
        index = self._new("signature")
        opaque = c.OpaqueState(FMT, part.thought_signature)
        out += [ev.BlockStart(index, c.Reasoning()), ev.OpaqueDelta(index, opaque)]
        self._open = None
        return [*out, ev.BlockStop(index)]

    def _call(self, call: w.FunctionCall) -> list[ev.Event]:
        if self._partial is not None:
            return self._continue_call(call, self._partial)
        if not call.name and not call.args:
            return []
        self._calls = True
        out = self._close()
        index = self._new("call")
        out.append(ev.BlockStart(index, c.ToolCall(call.id or new_call_id(), call.name or "", "")))
        if call.will_continue:
            self._partial = {}
            return out
        self._open = None
        args = jsonio.encode(call.args or {}).decode()
        return [*out, ev.ArgumentsDelta(index, args), ev.BlockStop(index)]

    def _continue_call(self, call: w.FunctionCall, args: dict[str, Any]) -> list[ev.Event]:
        for arg in call.partial_args or []:
            _apply(args, arg)
        if call.will_continue or call.partial_args:
            return []
        index = self._open
        self._partial, self._open = None, None
        if index is None:
            return []
        return [ev.ArgumentsDelta(index, jsonio.encode(args).decode()), ev.BlockStop(index)]

    def _new(self, kind: str) -> int:
        index = self._next
        self._next += 1
        self._open, self._open_kind = index, kind
        return index

    def _close(self) -> list[ev.Event]:
        if self._open is None:
            return []
        index, self._open = self._open, None
        return [ev.BlockStop(index)]

    def _finish(self, stop: c.StopReason) -> list[ev.Event]:
        self._stopped = True
        return [*self._close(), ev.MessageDelta(stop, None, self._usage)]

    def _fail(self, error: ev.StreamError) -> list[ev.Event]:
        self._finished = True
        return [*self._close(), error]


def _apply(args: dict[str, Any], arg: w.PartialArg) -> None:
    """Sets one streamed argument ($.a.b paths; string values arrive in pieces)."""
    keys = [k for k in arg.json_path.removeprefix("$").split(".") if k]
    if not keys:
        return
    node = args
    for key in keys[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            return
        node = child
    last = keys[-1]
    if arg.string_value is not None:
        previous = node.get(last)
        node[last] = (previous if isinstance(previous, str) else "") + arg.string_value
    elif arg.number_value is not None:
        node[last] = int(arg.number_value) if arg.number_value.is_integer() else arg.number_value
    elif arg.bool_value is not None:
        node[last] = arg.bool_value
    else:
        node[last] = None
