"""Canonical stream events (the grammar every stream decoder emits) and the Accumulator.

Grammar: ``MessageStart``, then any number of blocks, each ``BlockStart`` → deltas →
``BlockStop`` (indices count from 0 in start order; a delta names its block by index), then
``MessageDelta`` (stop reason and a full usage snapshot; may repeat), then ``MessageStop``.
``StreamError`` may replace the tail at any point and ends the stream.
"""

from __future__ import annotations

import msgspec

from octopus.errors import ErrorKind, GatewayError
from octopus.protocols import canonical as c


class MessageStart(msgspec.Struct, tag=True):
    id: str = ""
    model: str = ""
    created: int = 0
    usage: c.Usage | None = None


class BlockStart(msgspec.Struct, tag=True):
    """`block` is the empty shell: Text(""), ToolCall(id, name, ""), Reasoning("")."""

    index: int
    block: c.Block


class TextDelta(msgspec.Struct, tag=True):
    index: int
    text: str


class ArgumentsDelta(msgspec.Struct, tag=True):
    index: int
    json: str


class ReasoningDelta(msgspec.Struct, tag=True):
    index: int
    text: str


class OpaqueDelta(msgspec.Struct, tag=True):
    """Signature, redacted thinking or encrypted content for a reasoning block."""

    index: int
    opaque: c.OpaqueState


class BlockStop(msgspec.Struct, tag=True):
    index: int


class MessageDelta(msgspec.Struct, tag=True):
    stop_reason: c.StopReason | None = None
    stop_sequence: str | None = None
    usage: c.Usage | None = None


class MessageStop(msgspec.Struct, tag=True):
    pass


class StreamError(msgspec.Struct, tag=True):
    message: str
    status: int = 500
    kind: str = ErrorKind.INTERNAL.value

    @classmethod
    def from_error(cls, err: GatewayError) -> StreamError:
        return cls(message=err.message, status=err.status, kind=err.kind.value)

    def to_error(self) -> GatewayError:
        return GatewayError(self.message, status=self.status, kind=ErrorKind(self.kind))


Event = (
    MessageStart
    | BlockStart
    | TextDelta
    | ArgumentsDelta
    | ReasoningDelta
    | OpaqueDelta
    | BlockStop
    | MessageDelta
    | MessageStop
    | StreamError
)


class Accumulator:
    """Folds canonical events into a CanonResponse (non-stream clients, request logs)."""

    def __init__(self) -> None:
        self.response = c.CanonResponse()
        self._blocks: dict[int, c.Block] = {}
        self._pieces: dict[int, list[str]] = {}  # deltas per block, joined once in `result`

    def feed(self, event: Event) -> None:
        match event:
            case MessageStart():
                self._start(event)
            case BlockStart():
                self._blocks[event.index] = _copy(event.block)
                self._pieces.pop(event.index, None)  # a restarted block starts over
            case TextDelta() | ArgumentsDelta() | ReasoningDelta() | OpaqueDelta():
                self._delta(event)
            case MessageDelta():
                self._message_delta(event)
            case StreamError():
                self.response.stop_reason = "error"
                self.response.error = c.ErrorInfo(event.message, event.status, event.kind)
            case _:  # BlockStop, MessageStop carry nothing to fold
                pass

    def feed_all(self, events: list[Event]) -> None:
        for event in events:
            self.feed(event)

    def result(self) -> c.CanonResponse:
        for index, pieces in self._pieces.items():
            block = self._blocks[index]
            if isinstance(block, c.ToolCall):
                block.arguments += "".join(pieces)
            elif isinstance(block, c.Text | c.Reasoning):
                block.text += "".join(pieces)
        self._pieces.clear()
        self.response.content = [self._blocks[i] for i in sorted(self._blocks)]
        return self.response

    def _start(self, event: MessageStart) -> None:
        self.response.id = event.id
        self.response.model = event.model
        self.response.created = event.created
        if event.usage is not None:
            self.response.usage = event.usage

    def _delta(self, event: TextDelta | ArgumentsDelta | ReasoningDelta | OpaqueDelta) -> None:
        block = self._blocks.get(event.index)
        if isinstance(event, TextDelta) and isinstance(block, c.Text):
            self._pieces.setdefault(event.index, []).append(event.text)
        elif isinstance(event, ArgumentsDelta) and isinstance(block, c.ToolCall):
            self._pieces.setdefault(event.index, []).append(event.json)
        elif isinstance(event, ReasoningDelta) and isinstance(block, c.Reasoning):
            self._pieces.setdefault(event.index, []).append(event.text)
        elif isinstance(event, OpaqueDelta) and isinstance(block, c.Reasoning):
            block.opaque = event.opaque

    def _message_delta(self, event: MessageDelta) -> None:
        if event.stop_reason is not None:
            self.response.stop_reason = event.stop_reason
        if event.stop_sequence is not None:
            self.response.stop_sequence = event.stop_sequence
        if event.usage is not None:
            self.response.usage = event.usage


def _copy(block: c.Block) -> c.Block:
    return msgspec.structs.replace(block)


def response_events(resp: c.CanonResponse) -> list[Event]:
    """The event sequence that a stream carrying `resp` would produce (stream from non-stream)."""
    events: list[Event] = [
        MessageStart(id=resp.id, model=resp.model, created=resp.created, usage=None)
    ]
    for index, block in enumerate(resp.content):
        events.extend(_block_events(index, block))
    if resp.error is not None:
        events.append(StreamError(resp.error.message, resp.error.status, resp.error.kind))
        return events
    events.append(MessageDelta(resp.stop_reason or "end", resp.stop_sequence, resp.usage))
    events.append(MessageStop())
    return events


def _block_events(index: int, block: c.Block) -> list[Event]:
    match block:
        case c.Text():
            return [BlockStart(index, c.Text("")), TextDelta(index, block.text), BlockStop(index)]
        case c.ToolCall():
            shell = c.ToolCall(block.id, block.name, "")
            return [
                BlockStart(index, shell),
                ArgumentsDelta(index, block.arguments),
                BlockStop(index),
            ]
        case c.Reasoning():
            # the shell keeps the opaque state: redacted thinking and item ids open with it
            out: list[Event] = [BlockStart(index, c.Reasoning(opaque=block.opaque))]
            if block.text:
                out.append(ReasoningDelta(index, block.text))
            if block.opaque is not None:
                out.append(OpaqueDelta(index, block.opaque))
            return [*out, BlockStop(index)]
        case _:  # images and tool results never appear in model output
            return []


Piece = TextDelta | ReasoningDelta | ArgumentsDelta
_PIECES = (TextDelta, ReasoningDelta, ArgumentsDelta)


def coalesced(events: list[Event]) -> list[Event]:
    """`events` with each run of same-kind deltas to one block joined into one delta.

    What one upstream read brought arrives together anyway: the client gets one event per run
    instead of one per upstream event, and the stream encoder works once per run.
    """
    out: list[Event] = []
    head: Piece | None = None  # the run's first delta, last in `out`
    texts: list[str] = []
    for event in events:
        if isinstance(event, _PIECES):
            text = event.json if isinstance(event, ArgumentsDelta) else event.text
            if head is not None and type(head) is type(event) and head.index == event.index:
                texts.append(text)
                continue
            _close_run(out, head, texts)
            head, texts = event, [text]
        elif head is not None:
            _close_run(out, head, texts)
            head = None
        out.append(event)
    _close_run(out, head, texts)
    return out


def _close_run(out: list[Event], head: Piece | None, texts: list[str]) -> None:
    """Replace the run's first delta (last in `out`) by one holding the whole run's text."""
    if head is None or len(texts) < 2:
        return
    out[-1] = type(head)(head.index, "".join(texts))
