"""Incremental Server-Sent Events parser (bytes in, events out) and serializer; no JSON, no I/O."""

from __future__ import annotations

import functools

import msgspec

KEEPALIVE = b": keep-alive\n\n"
# Per-event tests use `data.find(x) >= 0`, not `x in data`: bytes.__contains__ first tries its
# argument as an integer and raises and discards a TypeError each time (about twice the cost).


class SseEventTooLarge(ValueError):
    """One event grew past the configured bound (a runaway or hostile stream)."""


class SseEvent(msgspec.Struct, frozen=True):
    """One event; a Struct, not a frozen dataclass: built twice per converted event, at a sixth
    of the frozen dataclass's cost (its __init__ goes through object.__setattr__ per field)."""

    data: bytes
    event: str = ""
    id: str = ""


class SseParser:
    """Push parser: feed any chunking of the byte stream, get whole events back in order.

    Linear in the bytes fed: each chunk is scanned once and a partial line grows in place, so
    an event trickling in one byte at a time costs O(n), not O(n²). Every byte held (a partial
    line plus the data lines of the event being built) counts against `max_event_size`.
    """

    def __init__(self, max_event_size: int = 32 * 1024 * 1024) -> None:
        self._max = max_event_size
        self._partial = bytearray()  # the current line, not yet ended
        self._cr = False  # the last chunk ended with CR: a LF starting the next one belongs to it
        self._data: list[bytes] = []
        self._size = 0
        self._event = ""
        self._id = ""

    def feed(self, chunk: bytes) -> list[SseEvent]:
        if not (self._partial or self._data or self._event or self._cr):  # `idle`, inline
            whole = self._whole_data_events(chunk)
            return whole if whole is not None else self._split(chunk)
        first = self.held_end(chunk)
        if 0 < first < len(chunk):  # the event in progress ends here: the rest starts clean
            return self._lines(chunk[:first]) + self._split(chunk[first:])
        return self._lines(chunk)

    def _split(self, chunk: bytes) -> list[SseEvent]:
        """A piece that starts an event and may end inside one (a read cut at any size): its
        whole events through the shortcut, the unfinished rest through the line machinery."""
        cut = chunk.rfind(b"\n\n") + 2
        if 2 <= cut < len(chunk) and chunk.find(b"\r") < 0:
            whole = self._whole_data_events(chunk[:cut])
            if whole is not None:
                return whole + self._lines(chunk[cut:])
        return self._lines(chunk)

    def held_end(self, chunk: bytes) -> int:
        """Where the event in progress ends in `chunk` (after its blank line); 0 when unknown
        here (CR in play, or no blank line)."""
        if self._cr or chunk.find(b"\r") >= 0:
            return 0
        if not self._partial and chunk[:1] == b"\n":  # its last line ended in the piece before
            return 1
        at = chunk.find(b"\n\n")
        return at + 2 if at >= 0 else 0

    def _lines(self, chunk: bytes) -> list[SseEvent]:
        """The general path: any piece, any line ends, any state."""
        if not chunk:  # nothing to parse: it must not forget a CR waiting for its LF
            return []
        if self._cr and chunk[:1] == b"\n":
            chunk = chunk[1:]
        if chunk.find(b"\r") >= 0:
            self._cr = chunk.endswith(b"\r")
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        else:
            self._cr = False
        end = chunk.find(b"\n")
        if end < 0:
            self._partial += chunk
            self._check()
            return []
        events: list[SseEvent] = []
        if self._partial:
            self._partial += chunk[:end]
            line = bytes(self._partial)
            self._partial.clear()
            self._line(line, events)
        else:
            self._line(chunk[:end], events)
        start = end + 1
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                break
            self._line(chunk[start:end], events)
            start = end + 1
        if start < len(chunk):
            self._partial += chunk[start:]
            self._check()
        return events

    def _whole_data_events(self, chunk: bytes) -> list[SseEvent] | None:
        """The usual piece between events, each event one `data: ...` line, every one of them
        after one `event: ...` line (Anthropic, Responses) or none (OpenAI, Gemini), parsed
        with one split and one count instead of the line machinery; None for anything else
        (the general path decides)."""
        size, end = len(chunk), chunk.find(b"\n")
        if (  # one `data:` line and its blank line, the usual paced read: no split at all
            end == size - 2
            and chunk[-1] == 10  # LF
            and chunk.startswith(b"data: ")
            and chunk.find(b"\r") < 0
            and size - 7 <= self._max  # the data and its line end, as the general path counts
        ):
            return [SseEvent(chunk[6:-2], "", self._id)]
        if (  # one `event:` line, one `data:` line and the blank line: a paced named event
            0 <= end < size - 3
            and chunk.find(b"\n", end + 1) == size - 2
            and chunk[-1] == 10  # LF
            and chunk.startswith(b"event: ")
            and chunk.startswith(b"data: ", end + 1)
            and chunk.find(b"\r") < 0
            and size - end - 8 <= self._max  # as above
        ):
            return [SseEvent(chunk[end + 7 : -2], _event_name(chunk[:end]), self._id)]
        if not chunk.endswith(b"\n\n") or chunk.find(b"\r") >= 0:
            return None
        if chunk.startswith(b"data: "):
            return self._data_events(chunk)
        if chunk.startswith(b"event: "):
            return self._named_events(chunk)
        return None

    def _data_events(self, chunk: bytes) -> list[SseEvent] | None:
        """Events of a `data:` line each, or None."""
        datas = chunk[6:-2].split(b"\n\ndata: ")
        if chunk.count(b"\n") != 2 * len(datas):  # some event has a line of its own
            return None
        if max(map(len, datas)) >= self._max:  # the data and its line end, as the general path
            raise SseEventTooLarge(f"an SSE event exceeded {self._max} bytes")
        ident = self._id
        return [SseEvent(data, "", ident) for data in datas]

    def _named_events(self, chunk: bytes) -> list[SseEvent] | None:
        """Events of an `event:` line and a `data:` line each, or None."""
        parts = chunk[:-2].split(b"\n\n")
        if chunk.count(b"\n") != 3 * len(parts):  # not one line break inside each event
            return None
        ident, most = self._id, self._max - 1  # the data and its line end, as the general path
        events: list[SseEvent] = []
        for part in parts:
            head, sep, data = part.partition(b"\ndata: ")
            # each holds the break before its data line, so it holds no other
            if not sep or not head.startswith(b"event: "):
                return None
            if len(data) > most:
                raise SseEventTooLarge(f"an SSE event exceeded {self._max} bytes")
            events.append(SseEvent(data, _event_name(head), ident))
        return events

    @property
    def max_event_size(self) -> int:
        return self._max

    @property
    def idle(self) -> bool:
        """Nothing held: the next byte fed starts a new event."""
        return not (self._partial or self._data or self._event or self._cr)

    def _check(self) -> None:
        if len(self._partial) + self._size > self._max:
            raise SseEventTooLarge(f"an SSE event exceeded {self._max} bytes")

    def close(self) -> list[SseEvent]:
        """End of stream: a final event without its blank line still counts."""
        events: list[SseEvent] = []
        if self._partial:
            line = bytes(self._partial)
            self._partial.clear()
            self._line(line, events)
        self._dispatch(events)
        return events

    def _line(self, line: bytes, events: list[SseEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        if line[0] == 0x3A:  # ':' starts a comment (keep-alives)
            return
        if line[:6] == b"data: ":  # the usual line, without the general split below
            name, value = b"data", line[6:]
        else:
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
        head += _event_line(event.event)
    if event.data.find(b"\n") < 0:
        return head + b"data: " + event.data + b"\n\n"
    lines = b"".join(b"data: " + part + b"\n" for part in event.data.split(b"\n"))
    return head + lines + b"\n"


def framing(name: str = "") -> tuple[bytes, bytes]:
    """What `encode_event` puts around the data of an event named `name`, with no id and one
    data line (JSON, which holds no raw line break): for fills that make the wire bytes."""
    return (_event_line(name) if name else b"") + b"data: ", b"\n\n"


@functools.lru_cache(maxsize=256)
def _event_name(line: bytes) -> str:
    """The name an `event: <name>` line gives: a stream repeats a handful of names."""
    return line[7:].decode("utf-8", "replace")


@functools.lru_cache(maxsize=256)
def _event_line(name: str) -> bytes:
    """`event: <name>` and its line end: a stream repeats a handful of names."""
    return b"event: " + name.encode() + b"\n"


def encode_events(events: list[SseEvent]) -> bytes:
    if len(events) == 1:  # the usual case per upstream event: no generator, no join
        return encode_event(events[0])
    return b"".join([encode_event(e) for e in events])
