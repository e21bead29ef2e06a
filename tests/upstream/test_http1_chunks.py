"""The connection's whole-chunk shortcut: a read that is exactly one chunk skips the parser.

The shortcut is safe only while the parser stands between two chunks; these tests cut chunked
answers at every pair of points and check that the body comes out whole and in order, that
only reads which are one whole chunk (framed as we frame ours) take the shortcut, and that a
chunk whose data looks like a chunk never does.
"""

from __future__ import annotations

import asyncio

import pytest

from octopus.upstream.http1 import Http1Connection

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


def _chunk(data: bytes, size_line: bytes | None = None) -> bytes:
    return (size_line or b"%x\r\n" % len(data)) + data + b"\r\n"


EVENTS = [b'data: {"n":1}\n\n', b"data: 3\r\nabc\r\n\n\n", b'data: {"n":22}\n\n', b"3\r\nabc"]
# the second event holds a well-formed chunk, and the last one's data is one once its size line
# has been read apart: a read that starts inside a chunk must not be taken for a chunk
BODY = b"".join(EVENTS)
ANSWER = HEAD + b"".join(_chunk(e) for e in EVENTS) + b"0\r\n\r\n"


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.sent.append(bytes(data))

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: object = None) -> object:
        return default


class _Reader:
    """Collects what the connection hands on: (how, body piece) per call."""

    def __init__(self) -> None:
        self.pieces: list[tuple[str, bytes]] = []

    def sink(self, data: bytes) -> bool:
        self.pieces.append(("parsed", data))
        return False

    def framed(self, frame: bytes, start: int) -> bool:
        assert frame[start:][-2:] == b"\r\n"
        assert frame[:start] == b"%x\r\n" % (len(frame) - start - 2)
        self.pieces.append(("whole", frame[start:-2]))
        return False


LOOP = asyncio.new_event_loop()  # never run: the connection only reads its clock


def _connection(reader: _Reader) -> Http1Connection:
    conn = Http1Connection(LOOP, ("http", "up", 80))
    conn.connection_made(_Transport())
    conn.begin(b"GET / HTTP/1.1\r\n\r\n")
    conn.sink, conn.framed = reader.sink, reader.framed  # as `wait_pushed` attaches them
    return conn


def _feed(pieces: list[bytes]) -> tuple[Http1Connection, _Reader]:
    reader = _Reader()
    conn = _connection(reader)
    for piece in pieces:
        conn.data_received(piece)
    return conn, reader


def test_each_chunk_read_alone_takes_the_shortcut() -> None:
    chunks = [_chunk(e) for e in EVENTS]
    conn, reader = _feed([HEAD + chunks[0], *chunks[1:], b"0\r\n\r\n"])
    assert conn.complete
    assert reader.pieces == [("parsed", EVENTS[0]), *(("whole", e) for e in EVENTS[1:])]


@pytest.mark.parametrize(
    "line", [b"F\r\n", b"0f\r\n", b"f;x=1\r\n"], ids=["upper", "zero", "extension"]
)
def test_a_size_line_unlike_ours_goes_through_the_parser(line: bytes) -> None:
    event = b"data: fifteen!\n\n"[:15]
    conn, reader = _feed([HEAD, _chunk(event, line), b"0\r\n\r\n"])
    assert conn.complete
    assert reader.pieces == [("parsed", event)]


def test_answers_cut_anywhere_come_out_whole() -> None:
    size = len(ANSWER)
    for first in range(1, size):
        for second in range(first, size):
            pieces = [ANSWER[:first], ANSWER[first:second], ANSWER[second:]]
            conn, reader = _feed([p for p in pieces if p])
            where = f"cut at {first}, {second}"
            assert conn.complete, where
            assert conn.error is None, where
            assert b"".join(p for _, p in reader.pieces) == BODY, where
            for how, piece in reader.pieces:
                assert how == "parsed" or piece in EVENTS, where
