"""Incremental Server-Sent Events parser (bytes in, events out) and serializer; no JSON, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

KEEPALIVE = b": keep-alive\n\n"


class SseEventTooLarge(ValueError):
    """One event grew past the configured bound (a runaway or hostile stream)."""


@dataclass(frozen=True, slots=True)
class SseEvent:
    data: bytes
    event: str = ""
    id: str = ""


class SseParser:
    """Push parser: feed any chunking of the byte stream, get whole events back in order."""

    def __init__(self, max_event_size: int = 32 * 1024 * 1024) -> None:
        self._max = max_event_size
        self._buffer = b""
        self._data: list[bytes] = []
        self._size = 0
        self._event = ""
        self._id = ""

    def feed(self, chunk: bytes) -> list[SseEvent]:
        buffer = self._buffer + chunk if self._buffer else chunk
        if b"\r" in buffer:
            # a lone CR at the end may be the first half of CRLF: wait for the next chunk
            held = buffer.endswith(b"\r")
            body = buffer[:-1] if held else buffer
            buffer = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n") + (b"\r" if held else b"")
        events: list[SseEvent] = []
        start = 0
        while True:
            end = buffer.find(b"\n", start)
            if end < 0:
                break
            self._line(buffer[start:end], events)
            start = end + 1
        self._buffer = buffer[start:]
        if len(self._buffer) + self._size > self._max:
            raise SseEventTooLarge(f"an SSE event exceeded {self._max} bytes")
        return events

    def close(self) -> list[SseEvent]:
        """End of stream: a final event without its blank line still counts."""
        events: list[SseEvent] = []
        if self._buffer:
            self._line(self._buffer.rstrip(b"\r"), events)
            self._buffer = b""
        self._dispatch(events)
        return events

    def _line(self, line: bytes, events: list[SseEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        if line[0] == 0x3A:  # ':' starts a comment (keep-alives)
            return
        name, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._size += len(value) + 1
            if self._size > self._max:
                raise SseEventTooLarge(f"an SSE event exceeded {self._max} bytes")
            self._data.append(value)
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id":
            self._id = value.decode("utf-8", "replace")

    def _dispatch(self, events: list[SseEvent]) -> None:
        if self._data or self._event:
            data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
            events.append(SseEvent(data=data, event=self._event, id=self._id))
        self._data = []
        self._size = 0
        self._event = ""


def encode_event(event: SseEvent) -> bytes:
    """One event in wire form, multi-line data split into several data lines."""
    head = b""
    if event.id:
        head += b"id: " + event.id.encode() + b"\n"
    if event.event:
        head += b"event: " + event.event.encode() + b"\n"
    if b"\n" not in event.data:
        return head + b"data: " + event.data + b"\n\n"
    lines = b"".join(b"data: " + part + b"\n" for part in event.data.split(b"\n"))
    return head + lines + b"\n"


def encode_events(events: list[SseEvent]) -> bytes:
    return b"".join(encode_event(e) for e in events)
