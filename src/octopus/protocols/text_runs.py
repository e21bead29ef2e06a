"""Runs of text, reasoning or arguments deltas, read without the SSE parser or a decode per event.

Within one stream, an upstream's text deltas usually differ only in their text. Once the
decoder has made exactly one text delta of an event, the bytes around that text (the event's
envelope) are learned; a run of events with that envelope is then one delta for all of them,
joined: what the parser, the decoder and `events.coalesced` would make of it, for one split,
one join and one JSON string decode. A read may be one run (`TextRuns.whole`) or hold runs
among other events (`RunReader` takes each where it stands). Every event that goes the usual
way forgets the envelope (the decoder's state may have moved on), and the next plain text
delta teaches it again. An envelope that ends with OpenAI's per-chunk `obfuscation` stamp keeps
the stamp as a hole of safe characters (a run of such events is walked event by event); an
envelope that changes anywhere else is given up after TRIES.
"""

from __future__ import annotations

from operator import itemgetter, methodcaller

import msgspec

from octopus.protocols import events as ev
from octopus.protocols.codec import StreamDecoder
from octopus.protocols.sse import SseEvent, SseParser

SINGLES = 4  # events of one read fed one by one to learn from, before the rest goes as usual
# a value an upstream stamps on every event, last in it (OpenAI's random `obfuscation` padding):
# learned as a hole of safe characters, so a stamped stream's text deltas are runs too
_STAMP = b',"obfuscation":"'
_STAMP_END = b'"}\n\n'
_STAMP_CHARS = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_+/=."
TRIES = 8  # envelopes learned in vain (never read, or not found) before a stream is left alone
_STRING = msgspec.json.Decoder(str)
_ENCODE = msgspec.json.encode
Run = ev.TextDelta | ev.ReasoningDelta | ev.ArgumentsDelta  # the deltas a run is made of


def _unsafe(stamp: bytes) -> bytes:
    """What of `stamp` is not a safe stamp character (b"": it is a stamp)."""
    return stamp.translate(None, _STAMP_CHARS)


class TextRuns:
    """What one converted stream learned of its text deltas' envelope."""

    __slots__ = (
        "_end",
        "_escaped",
        "_head",
        "_index",
        "_kind",
        "_limit",
        "_starts",
        "_tail",
        "_text_of",
        "_tries",
        "_used",
    )

    def __init__(self, max_event_size: int) -> None:
        self._limit = max_event_size  # the parser's bound, which a read of one event must keep
        self._head = b""  # the wire bytes before the text's JSON string body (b"": none learned)
        self._tail = b""  # ... and after it, the event's blank line included (up to a stamp)
        self._end = b""  # after a stamp, when the event ends with one (b"": no stamp)
        self._escaped = b""  # a joint after a backslash: the string body before it is cut short
        self._starts = methodcaller("startswith", b"")  # an event's head is the learned one
        self._text_of = itemgetter(slice(0, None))  # an event's text, after its head
        self._index = 0  # the canonical block the learned deltas belong to
        self._kind: type[Run] = ev.TextDelta  # ... and what they hold
        self._tries = TRIES
        self._used = False  # the learned envelope has read a run

    @property
    def hopeful(self) -> bool:
        """Still learning: an envelope is known, or may be."""
        return self._tries > 0

    @property
    def plain(self) -> bool:
        """An envelope of text deltas is learned, without a stamp."""
        return bool(self._head) and not self._end and self._kind is ev.TextDelta

    def envelope(self) -> tuple[bytes, bytes, int, int]:
        """The learned (head, tail), the bound of one read, and the deltas' block index."""
        return self._head, self._tail, self._limit, self._index

    def ran(self) -> None:
        self._used = True

    def whole(self, data: bytes) -> list[ev.Event] | None:
        """The events of `data` when it is learned events and nothing else (the usual read of a
        learned stream: no search for where the run ends); None when it is not."""
        head, tail = self._head, self._tail
        if self._end:
            return self._stamped(data)
        if (
            not head
            or not data.startswith(head)
            or not data.endswith(tail)
            or len(data) > self._limit  # as the parser, which bounds each event
        ):
            return None
        events = data.split(tail)  # each event's head and text (b"" after the last)
        if len(events) == 2:
            # its text's JSON string, quotes and all: the head ends and the tail begins with one
            return self._delta(data[len(head) - 1 : len(data) - len(tail) + 1])
        del events[-1]
        if not all(map(self._starts, events)) or data.find(self._escaped) >= 0:
            return None  # another event among them, or a text cut short by a backslash
        return self._delta(b'"%b"' % b"".join(map(self._text_of, events)))

    def _stamped(self, data: bytes) -> list[ev.Event] | None:
        """`whole` for an envelope that ends with a stamp: one event (the joint between two
        differs with each stamp; several in one read are `take`n)."""
        head, tail, end = self._head, self._tail, self._end
        if not data.startswith(head) or not data.endswith(end) or len(data) > self._limit:
            return None
        at = data.rfind(tail, len(head))  # the text's closing quote: none follows the stamp
        stamp, stamp_end = at + len(tail), len(data) - len(end)
        if at < 0 or stamp > stamp_end or _unsafe(data[stamp:stamp_end]):
            return None  # no stamp of safe characters alone between the text and the end
        return self._delta(data[len(head) - 1 : at + 1])

    def take(self, data: bytes) -> tuple[list[ev.Event], int] | None:
        """The run of learned events `data` starts with: its events and its length in bytes;
        None when `data` does not start with one."""
        head, tail = self._head, self._tail
        if not head or not data.startswith(head):
            return None
        if self._end:
            return self._take_stamped(data)
        # each event the tail ends: its head and text; the last piece has no tail (or is b"")
        pieces = data.split(tail)
        learned = list(map(self._starts, pieces))
        count = learned.index(False) if False in learned else len(pieces)
        count = min(count, len(pieces) - 1)  # the run: the events in the envelope, in a row
        if count == 0:
            return None
        run = pieces[:count]
        used = sum(map(len, run)) + count * len(tail)
        if used > self._limit:  # as `whole`: this bounds the run
            return None
        if count > 1 and data.find(self._escaped, 0, used) >= 0:
            return None  # a text cut short by a backslash: joined, it would run on
        events = self._delta(b'"%b"' % b"".join(map(self._text_of, run)))
        return None if events is None else (events, used)

    def _take_stamped(self, data: bytes) -> tuple[list[ev.Event], int] | None:
        """`take` for a stamped envelope: event by event, as each joint holds its own stamp."""
        head, tail, end = self._head, self._tail, self._end
        bodies: list[bytes] = []
        used = 0
        while data.startswith(head, used):
            start = used + len(head)
            at = data.find(tail, start)  # a text holds no raw quote: the first tail ends it
            stamp = at + len(tail)
            stop = data.find(end, stamp)
            if at < 0 or stop < 0 or _unsafe(data[stamp:stop]):
                break  # not a whole stamped event: from here on, the parser's
            bodies.append(data[start:at])
            used = stop + len(end)
        if not bodies or used > self._limit:  # as `take`: the limit bounds the run
            return None
        if any(body.endswith(b"\\") for body in bodies):
            return None  # a string body cut short by a backslash: joined, it would run on
        events = self._delta(b'"%b"' % b"".join(bodies))
        return None if events is None else (events, used)

    def _delta(self, literal: bytes) -> list[ev.Event] | None:
        """The one delta of a run's texts, joined as one JSON string (none for an empty one)."""
        try:  # the one check of every text: a quote, a line break or a bad escape fails it
            text = _STRING.decode(literal)
        except ValueError:
            return None
        self._used = True
        return [self._kind(self._index, text)] if text else []

    def learn(self, sse: SseEvent, events: list[ev.Event]) -> None:
        """After the decoder made `events` of `sse` the usual way: learn the envelope of a
        single text delta; forget the one learned before either way."""
        if self._head:
            self._head = b""
            self._tries -= not self._used  # e.g. an envelope that changes with every event
        if self._tries <= 0 or len(events) != 1:
            return
        delta, data = events[0], sse.data
        if type(delta) is ev.ArgumentsDelta:
            literal = _ENCODE(delta.json)  # a tool call's arguments, streamed as text
        elif type(delta) is ev.TextDelta or type(delta) is ev.ReasoningDelta:
            literal = _ENCODE(delta.text)
        else:
            return
        at = data.find(literal)
        if (
            at < 0
            or data.find(literal, at + 1) >= 0  # the text also appears elsewhere: ambiguous
            or sse.id
            or data.find(b"\n") >= 0  # one data line only, as the head below writes it
        ):
            self._tries -= 1  # e.g. the upstream escapes text otherwise than we would
            return
        line = b"event: %b\n" % sse.event.encode() if sse.event else b""
        self._head = line + b"data: " + data[: at + 1]
        self._tail = data[at + len(literal) - 1 :] + b"\n\n"
        self._end = b""
        stamp, tail = self._tail.rfind(_STAMP) + len(_STAMP), self._tail
        value = tail[stamp : len(tail) - len(_STAMP_END)]
        if stamp > len(_STAMP) and tail.endswith(_STAMP_END) and not _unsafe(value):
            self._tail, self._end = tail[:stamp], _STAMP_END  # the event ends with its stamp
        self._escaped = b"\\" + self._tail + self._head  # a text ending with a backslash
        self._starts = methodcaller("startswith", self._head)
        self._text_of = itemgetter(slice(len(self._head), None))
        self._index = delta.index
        self._kind = type(delta)
        self._used = False


class RunReader:
    """An upstream stream's reads → canonical events: its SSE parser and decoder, with each run
    of learned deltas taken as one (`TextRuns`)."""

    __slots__ = ("_decoder", "_parser", "_runs")

    def __init__(self, parser: SseParser, decoder: StreamDecoder) -> None:
        self._parser = parser
        self._decoder = decoder
        self._runs = TextRuns(parser.max_event_size)

    def feed(self, chunk: bytes) -> list[ev.Event]:
        runs, parser = self._runs, self._parser
        if not runs.hopeful:  # given up: the parser and decoder alone, nothing learned per event
            decoder = self._decoder
            return [e for sse in parser.feed(chunk) for e in decoder.feed(sse)]
        if not parser.idle:  # first the end of the event the parser holds
            end = parser.held_end(chunk)
            if not 0 < end < len(chunk):
                return self._usual(chunk)
            return self._rest(self._usual(chunk[:end]), chunk[end:])
        run = runs.whole(chunk)
        return run if run is not None else self._rest([], chunk)

    def _rest(self, events: list[ev.Event], chunk: bytes) -> list[ev.Event]:
        """`events`, then those of `chunk` (which starts an event): runs taken where they stand,
        the first few other events one by one (they may teach the envelope), then as usual."""
        runs, parser = self._runs, self._parser
        singles = SINGLES
        while chunk and parser.idle:
            taken = runs.take(chunk)
            if taken is not None:
                events += taken[0]
                chunk = chunk[taken[1] :]
                continue
            end = chunk.find(b"\n\n") + 2
            if singles == 0 or not 2 <= end < len(chunk):
                break
            singles -= 1
            events += self._usual(chunk[:end])
            chunk = chunk[end:]
        return events + self._usual(chunk) if chunk else events

    def plain_run(self) -> tuple[bytes, bytes, int, int] | tuple[()] | None:
        """(head, tail, limit, block index) when the next read may be one learned text delta
        taken whole (nothing held, no stamp); None when not now, () when never again. Valid
        until the reader is fed (relay/fastsink.py's converted sink)."""
        runs = self._runs
        if not runs.hopeful:
            return ()
        if not runs.plain or not self._parser.idle:
            return None
        return runs.envelope()

    def ran(self) -> None:
        """A read was taken whole outside `feed` (what `TextRuns.whole` notes itself)."""
        self._runs.ran()

    def close(self) -> list[ev.Event]:
        """The end of the stream: an event left without its blank line, then the decoder's."""
        decoder = self._decoder
        return [e for sse in self._parser.close() for e in decoder.feed(sse)] + decoder.close()

    def _usual(self, chunk: bytes) -> list[ev.Event]:
        decoder, runs = self._decoder, self._runs
        events: list[ev.Event] = []
        for sse in self._parser.feed(chunk):
            got = decoder.feed(sse)
            runs.learn(sse, got)
            events += got
        return events
