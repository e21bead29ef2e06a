"""The compiled pushed read (upstream/_pushread.c) against Http1Connection.data_received alone.

Each scenario streams a chunked body from a loopback server into a sink through the lean
transport, once with the C receiver and once without it; the sink must see the same pieces, the
reader the same holds, ends and errors, and the C receiver must have taken the paced reads.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httptools
import pytest
import uvloop

from octopus.errors import UpstreamError, UpstreamProtocol, UpstreamTimeout
from octopus.upstream import http1
from octopus.upstream.aiohttp_transport import AiohttpTransport
from octopus.upstream.lean_transport import LeanResponse, LeanTransport
from octopus.upstream.transport import UpstreamRequest

HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
END = b"0\r\n\r\n"
Writes = Callable[[asyncio.StreamWriter, asyncio.Event], Awaitable[None]]


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


def paced(*parts: bytes, gap: float = 0.01, bare: frozenset[int] = frozenset()) -> Writes:
    """The head, then each part as its own write, `gap` seconds apart; each part but those
    numbered in `bare` (no body byte in it) is written only once the sink had the one before,
    so every read holds exactly one write."""

    async def write(writer: asyncio.StreamWriter, heard: asyncio.Event) -> None:
        writer.write(HEAD)
        for number, part in enumerate(parts):
            await asyncio.sleep(gap)
            heard.clear()
            writer.write(part)
            await writer.drain()
            if number not in bare and part != END:
                await asyncio.wait_for(heard.wait(), 5)

    return write


@dataclass
class Outcome:
    calls: list[bytes] = field(default_factory=list)
    rounds: int = 0  # times the sink held and the reader came back
    error: str = ""
    taken: int = 0  # reads the C receiver handed to the sink itself


async def _stream(writes: Writes, hold_at: set[int], timeout: float = 2.0) -> Outcome:
    """One request to a server that answers with `writes`; the sink holds on the calls whose
    number is in `hold_at`."""

    heard = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(2)
        try:
            await writes(writer, heard)
            await asyncio.sleep(timeout + 1)  # silent, open: the body ends only if it says so
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    lean = LeanTransport(proxied=AiohttpTransport())
    out = Outcome()

    def sink(data: bytes) -> bool:
        out.calls.append(data)
        heard.set()
        return len(out.calls) in hold_at

    try:
        request = UpstreamRequest(
            "POST", f"http://127.0.0.1:{port}/", body=b"{}", read_timeout=timeout
        )
        resp = await lean.send(request)
        assert isinstance(resp, LeanResponse)
        receiver = resp._conn.data_received if resp._conn is not None else None
        try:
            while not await resp.push(sink):
                out.rounds += 1
        except UpstreamError as exc:
            out.error = f"{type(exc).__name__}: {exc}"
        out.taken = getattr(receiver, "taken", 0)
        await resp.aclose()
    finally:
        await lean.aclose()
        server.close()
    return out


async def _both(
    writes: Writes, hold_at: frozenset[int] = frozenset(), timeout: float = 2.0
) -> tuple[Outcome, Outcome]:
    compiled = await _stream(writes, set(hold_at), timeout)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(http1, "Receiver", None)
        python = await _stream(writes, set(hold_at), timeout)
    assert python.taken == 0
    return python, compiled


def _same(python: Outcome, compiled: Outcome) -> None:
    assert (python.calls, python.rounds, python.error) == (
        compiled.calls,
        compiled.rounds,
        compiled.error,
    )


needs_build = pytest.mark.skipif(
    http1.Receiver is None, reason="unreachable: test_the_receiver_is_built fails first"
)


def test_the_receiver_is_built_and_is_the_connections_data_received() -> None:
    """`make test` builds the C part (setup.py); without it these tests would prove nothing."""
    assert http1.Receiver is not None
    conn = http1.Http1Connection(asyncio.new_event_loop(), ("http", "127.0.0.1", 1))
    assert isinstance(conn.data_received, http1.Receiver)


@needs_build
async def test_paced_reads_go_to_the_sink_in_c() -> None:
    parts = [b"piece %d " % i * (i + 1) for i in range(12)]
    python, compiled = await _both(paced(*map(chunk, parts), END))
    _same(python, compiled)
    assert compiled.calls == parts
    assert compiled.error == ""
    assert compiled.taken == len(parts)


@needs_build
def test_under_uvloop_the_receiver_is_what_the_loop_calls() -> None:
    """uvloop keeps the protocol's data_received from the moment the connection is made: the
    receiver set in __init__ is the one it calls (the gateway runs on uvloop)."""
    parts = [b"u%d" % i for i in range(5)]
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        out = runner.run(_stream(paced(*map(chunk, parts), END), set()))
    assert out.calls == parts
    assert out.taken == len(parts)


@needs_build
async def test_a_read_of_several_pieces_and_a_bare_chunk_header_stay_with_python() -> None:
    two = chunk(b"one") + chunk(b"two")
    half = b"5\r\n"  # a chunk's header alone: the parser makes no piece of it
    writes = paced(chunk(b"a"), two, half, b"fifth\r\n", chunk(b"z"), END, bare=frozenset({2}))
    python, compiled = await _both(writes)
    _same(python, compiled)
    assert compiled.calls == [b"a", b"onetwo", b"fifth", b"z"]  # one read's pieces joined
    assert compiled.taken == 3  # all but the read of two pieces


@needs_build
async def test_a_sink_that_holds_gets_the_reader_back_and_nothing_is_lost() -> None:
    parts = [b"p%d" % i for i in range(8)]
    python, compiled = await _both(paced(*map(chunk, parts), END), hold_at=frozenset({3, 6}))
    _same(python, compiled)
    assert compiled.calls == parts
    assert compiled.rounds == 2
    assert compiled.taken == len(parts)


@needs_build
async def test_an_unparsable_read_fails_the_exchange_after_what_came_before() -> None:
    writes = paced(chunk(b"good one"), chunk(b"good two"), b"zz\r\nnot a chunk\r\n")
    python, compiled = await _both(writes)
    _same(python, compiled)
    assert compiled.calls == [b"good one", b"good two"]
    assert compiled.error.startswith(UpstreamProtocol.__name__)
    assert "invalid HTTP response" in compiled.error


@needs_build
async def test_pushed_reads_keep_the_silence_timer_from_firing() -> None:
    """Reads every 0.1 s for 0.8 s under a 0.3 s silence limit: the C receiver stamps each read,
    so only the silence after them times out."""
    writes = paced(*(chunk(b"tick") for _ in range(8)), gap=0.1)
    python, compiled = await _both(writes, timeout=0.3)
    _same(python, compiled)
    assert compiled.calls == [b"tick"] * 8
    assert compiled.error.startswith(UpstreamTimeout.__name__)
    assert compiled.taken == 8


@needs_build
def test_the_receiver_refuses_misuse_and_lets_its_connection_go() -> None:
    receiver_type = http1.Receiver
    assert receiver_type is not None
    with pytest.raises(TypeError, match="__init__ was not called"):
        receiver_type.__new__(receiver_type)(b"x")
    conn = http1.Http1Connection(asyncio.new_event_loop(), ("http", "127.0.0.1", 1))
    with pytest.raises(TypeError, match="one bytes object"):
        conn.data_received(b"x", b"y")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        receiver_type(conn, (), len, len, len, httptools.HttpParserError)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="callable"):
        receiver_type(conn, [], None, len, len, httptools.HttpParserError)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="exception class"):
        receiver_type(conn, [], len, len, len, ValueError())  # type: ignore[arg-type]
    gone = weakref.ref(conn)
    del conn
    gc.collect()
    assert gone() is None  # the cycle through the receiver is collected
