"""Passthrough's byte handling: cut the upstream stream at event boundaries, parse only for usage.

Same-protocol streams go to the client as the upstream wrote them, cut only after a blank line
so an in-band error or keep-alive never lands inside a half-written event. Finding the cut scans
each chunk once (linear in the bytes received); the bytes held back wait for the rest of their
event and are capped, so a stream that never ends an event (comment lines only, a runaway
event) ends the attempt instead of growing memory; a whole event over the cap is refused too.
Only the events whose bytes carry a usage object are parsed (found with bytes.find, the rest of
a region is never split into lines): that is all metering needs after commit.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from octopus.protocols.sse import SseEvent, SseEventTooLarge, SseParser

_MARKS = (b"\r\r", b"\n\r\n", b"\r\n\n")  # blank lines when CR is in play ("\r\n\r\n" included)
USAGE = b'"usage'  # "usage" (OpenAI, Anthropic) and "usageMetadata" (Gemini)
_NO_USAGE = (b'"usage":null', b'"usage": null')  # placeholders: OpenAI's, in every chunk
# a usage object: a "usage" not followed by a null placeholder
_REAL_USAGE = re.compile(rb'"usage(?!": ?null)')


def _has_usage(data: bytes) -> bool:
    """Whether `data` may hold a usage object (a `"usage` other than a null placeholder): a
    find, then placeholder counts when one is there (no walk from placeholder to placeholder)."""
    if data.find(USAGE) < 0:
        return False
    return data.count(USAGE) != data.count(_NO_USAGE[0]) + data.count(_NO_USAGE[1])


try:  # the same test in C when built (Horspool: reads a fraction of the bytes)
    from octopus.relay._passsink import has_usage as _compiled
except ImportError:  # pragma: no cover - the C part is built wherever the tests run
    _compiled = _has_usage
has_usage: Callable[[bytes], bool] = _compiled


def last_boundary(data: bytes) -> int:
    """Length of the longest prefix of `data` that ends on an SSE event boundary (0 = none)."""
    end = data.rfind(b"\n\n")
    end = end + 2 if end >= 0 else 0
    if data.find(b"\r") >= 0:  # not `in`: see sse.py
        for mark in _MARKS:
            at = data.rfind(mark)
            if at >= 0 and at + len(mark) > end:
                end = at + len(mark)
    return end


def oversized(data: bytes, limit: int) -> bool:
    """True when an event of `data` (wire bytes, the last one may be unfinished) exceeds `limit`.

    Free for the usual region shorter than `limit`; CR-only framing counts as one event.
    """
    if len(data) <= limit:
        return False
    start, size = 0, len(data)
    while start < size:
        end = next_event(data, start)
        if end - start > limit:
            return True
        start = end
    return False


def next_event(data: bytes, start: int) -> int:
    """Where the event starting at `start` ends (after its blank line); the end of `data` when
    no LF blank line follows (an unfinished event, or CR framing: then the rest goes whole)."""
    cut = data.find(b"\n\n", start)
    return len(data) if cut < 0 else cut + 2


def usage_slices(data: bytes) -> list[bytes]:
    """The events of `data` (whole events) that may hold a usage object, skipping events with
    only `"usage": null` placeholders; all of `data` when CR framing is in play."""
    found: list[bytes] = []
    first = data.find(USAGE)  # a fast search to the first `"usage`; the pattern walks from there
    usage = None if first < 0 else _REAL_USAGE.search(data, first)
    if usage is not None and data.find(b"\r") >= 0:
        return [data]
    while usage is not None:
        at = usage.start()
        start = data.rfind(b"\n\n", 0, at)
        end = next_event(data, at)
        found.append(data[start + 2 if start >= 0 else 0 : end])
        usage = _REAL_USAGE.search(data, end)
    return found


class EventCutter:
    """Holds the bytes of the event in progress; `push` returns what can go out (whole events)."""

    __slots__ = ("_held", "_limit", "_size", "_tail", "parser")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._held: list[bytes] = []
        self._size = 0
        self._tail = b""  # the last bytes held, for a boundary split across chunks
        self.parser = SseParser(limit)  # sees only the regions that carry usage

    def push(self, chunk: bytes) -> bytes:
        tail = self._tail
        cut = last_boundary(tail + chunk if tail else chunk) - len(tail)
        if cut <= 0:
            self._held.append(chunk)
            self._size += len(chunk)
            self._tail = (tail + chunk)[-3:]
            if self._size > self._limit:
                raise SseEventTooLarge(f"an SSE event exceeded {self._limit} bytes")
            return b""
        ready = chunk if cut == len(chunk) else chunk[:cut]
        if self._held:
            ready = b"".join([*self._held, ready])
        if oversized(ready, self._limit):
            raise SseEventTooLarge(f"an SSE event exceeded {self._limit} bytes")
        rest = chunk[cut:]
        self._held = [rest] if rest else []
        self._size = len(rest)
        self._tail = rest[-3:]
        return ready

    def rest(self) -> bytes:
        """The bytes of an unfinished last event (the stream ended without its blank line)."""
        held, self._held, self._size, self._tail = self._held, [], 0, b""
        return b"".join(held)

    def usage_events(self, data: bytes) -> list[SseEvent]:
        """The events of `data` that may carry usage, parsed; none when no `"usage` other than a
        placeholder is in it (a hot caller tests `has_usage` first: then no call at all)."""
        return [sse for part in usage_slices(data) for sse in self.parser.feed(part)]
