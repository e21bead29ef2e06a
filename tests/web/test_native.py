"""Relay requests served natively on uvicorn's connection (web/native.py), over raw sockets:
HTTP/1.1 framing, keep-alive and pipelining, HEAD, HTTP/1.0, failures inside the relay, no
reference cycle left per request (the collector would have to free each one), and how few
writes (sends to the client) a stream takes."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from tests.fakes.fixtures import fake, world
from tests.fakes.gateway import Gateway, World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault

from octopus.protocols import WireFormat
from octopus.web.direct import DirectHttpProtocol
from octopus.web.relay_asgi import Inbound, WebResponder
from octopus.web.relay_routes import RelayApp

__all__ = ["fake", "world"]


@pytest.fixture
async def gateway(fake: FakeUpstream, world: World) -> AsyncIterator[Gateway]:
    world.channels.append(channel(fake, 1))
    world.groups.append(group("m", world.channels))
    async with serve_relay(world) as gw:
        yield gw


class _Recorded:
    """A client connection's transport, keeping each write (one write, one send)."""

    def __init__(self, transport: asyncio.Transport, writes: list[bytes]) -> None:
        self._transport, self._writes = transport, writes

    def write(self, data: bytes) -> None:
        self._writes.append(bytes(data))
        self._transport.write(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self._transport, name)


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every write the gateway makes to its clients, in order."""
    seen: list[bytes] = []
    made = DirectHttpProtocol.connection_made

    def recorded(self: DirectHttpProtocol, transport: asyncio.Transport) -> None:
        made(self, _Recorded(transport, seen))  # type: ignore[arg-type]

    monkeypatch.setattr(DirectHttpProtocol, "connection_made", recorded)
    return seen


def _post(key: str, *, version: str = "1.1", stream: bool = False) -> bytes:
    body = json.dumps(
        {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    ).encode()
    head = (
        f"POST /v1/chat/completions HTTP/{version}\r\nHost: t\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _exchange(url: str, data: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(data)
    await writer.drain()
    return reader, writer


async def _response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One sized response off the wire: status, headers (lower-case), body."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    size = int(headers.get("content-length", "0"))
    body = await asyncio.wait_for(reader.readexactly(size), 10) if size else b""
    return status, headers, body


async def test_pipelined_requests_answer_in_order_on_one_connection(gateway: Gateway) -> None:
    key = gateway.world.add_key()
    models = f"GET /v1/models HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\n\r\n"
    reader, writer = await _exchange(gateway.url, _post(key) + models.encode() + _post(key))
    answers = [await _response(reader) for _ in range(3)]
    writer.close()
    assert [status for status, _, _ in answers] == [200, 200, 200]
    assert json.loads(answers[0][2])["object"] == "chat.completion"
    assert json.loads(answers[1][2])["object"] == "list"
    assert json.loads(answers[2][2])["object"] == "chat.completion"
    assert all("connection" not in headers for _, headers, _ in answers)  # kept alive


async def test_head_gets_the_head_of_get_and_the_connection_goes_on(gateway: Gateway) -> None:
    key = gateway.world.add_key()
    auth = f"Authorization: Bearer {key}\r\n"
    request = f"HEAD /v1/models HTTP/1.1\r\nHost: t\r\n{auth}\r\nGET /v1/models HTTP/1.1\r\n"
    reader, writer = await _exchange(gateway.url, f"{request}Host: t\r\n{auth}\r\n".encode())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    status, headers, body = await _response(reader)  # the GET, right after the bare head
    writer.close()
    assert head.startswith(b"HTTP/1.1 200 ")
    assert f"content-length: {len(body)}".encode() in head
    assert status == 200
    assert json.loads(body)["data"][0]["id"] == "m"
    assert headers["content-type"] == "application/json"


async def test_http_1_0_is_answered_then_closed(gateway: Gateway) -> None:
    reader, writer = await _exchange(gateway.url, _post(gateway.world.add_key(), version="1.0"))
    status, headers, _ = await _response(reader)
    assert status == 200
    assert headers["connection"] == "close"
    assert await asyncio.wait_for(reader.read(), 10) == b""  # the server closed it
    writer.close()


async def _chunked_body(reader: asyncio.StreamReader) -> bytes:
    """A chunked body off the wire, through its last (empty) chunk."""
    body = b""
    while size := int(await asyncio.wait_for(reader.readuntil(b"\r\n"), 10), 16):
        body += (await asyncio.wait_for(reader.readexactly(size + 2), 10))[:-2]
    assert await asyncio.wait_for(reader.readexactly(2), 10) == b"\r\n"
    return body


async def test_a_stream_is_chunked_and_the_connection_kept(gateway: Gateway) -> None:
    key = gateway.world.add_key()
    reader, writer = await _exchange(gateway.url, _post(key, stream=True))
    for turn in range(2):  # the second request goes on the same socket
        status, headers, _ = await _response(reader)
        assert (status, headers["transfer-encoding"]) == (200, "chunked")
        assert "connection" not in headers
        assert (await _chunked_body(reader)).decode().rstrip().endswith("data: [DONE]")
        if turn == 0:
            writer.write(_post(key, stream=True))
    writer.close()


async def test_a_failure_before_the_answer_is_a_500_and_a_close(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    key = gateway.world.add_key()

    async def broken(self: RelayApp, inbound: Inbound, responder: WebResponder) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(RelayApp, "serve", broken)
    with caplog.at_level(logging.ERROR, logger="octopus.relay"):
        reader, writer = await _exchange(gateway.url, _post(key))
        status, headers, body = await _response(reader)
        assert await asyncio.wait_for(reader.read(), 10) == b""
    writer.close()
    assert (status, headers["connection"], body) == (500, "close", b"Internal Server Error")
    assert "relay request failed" in caplog.text
    assert key not in caplog.text


async def test_a_failure_mid_stream_closes_the_connection(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def half(self: RelayApp, inbound: Inbound, responder: WebResponder) -> None:
        await responder.start(200, [("content-type", "text/event-stream")])
        await responder.write(b"data: one\n\n")
        raise RuntimeError("upstream parser bug")

    monkeypatch.setattr(RelayApp, "serve", half)
    reader, writer = await _exchange(gateway.url, _post(gateway.world.add_key(), stream=True))
    seen = await asyncio.wait_for(reader.read(), 10)  # up to the close
    writer.close()
    assert seen.startswith(b"HTTP/1.1 200 ")
    assert b"data: one\n\n" in seen
    assert not seen.endswith(b"0\r\n\r\n")  # never framed as complete


async def test_a_header_with_a_line_break_is_never_sent(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def injecting(self: RelayApp, inbound: Inbound, responder: WebResponder) -> None:
        await responder.json(200, b"{}", [("x-note", "a\r\nx-injected: 1")])

    monkeypatch.setattr(RelayApp, "serve", injecting)
    reader, writer = await _exchange(gateway.url, _post(gateway.world.add_key()))
    status, headers, _ = await _response(reader)
    writer.close()
    assert status == 500
    assert "x-injected" not in headers


async def _left_for_the_collector(
    round_trip: Callable[[], Awaitable[None]], times: int
) -> set[str]:
    """Type names of what `times` round trips left in reference cycles."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(times):
            await round_trip()
        gc.collect()
        return {type(obj).__name__ for obj in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


@pytest.mark.parametrize("asgi", [False, True], ids=["native", "asgi"])
async def test_no_request_leaves_a_reference_cycle(
    asgi: bool, fake: FakeUpstream, world: World
) -> None:
    world.channels.append(channel(fake, 1))
    world.groups.append(group("m", world.channels))
    async with serve_relay(world, asgi=asgi) as gw:
        key = gw.world.add_key()
        reader, writer = await _exchange(gw.url, _post(key))
        await _response(reader)  # warm: first-use objects are not per request

        async def again() -> None:
            writer.write(_post(key))
            assert (await _response(reader))[0] == 200

        kinds = await _left_for_the_collector(again, 20)
        writer.close()
    assert not kinds & {"RequestResponseCycle", "DirectBody", "CycleResponder", "Inbound"}, kinds


async def test_a_streams_head_leaves_with_its_first_events(
    gateway: Gateway, writes: list[bytes]
) -> None:
    reader, writer = await _exchange(gateway.url, _post(gateway.world.add_key(), stream=True))
    await _response(reader)
    assert b"data: " in await _chunked_body(reader)
    writer.close()
    assert writes[0].startswith(b"HTTP/1.1 200 ")
    assert b"data: " in writes[0]  # one send, one wake-up of the client, not two


async def test_events_read_together_leave_in_one_write(
    gateway: Gateway, fake: FakeUpstream, writes: list[bytes]
) -> None:
    pieces = [f"piece {i} " for i in range(30)]
    # two events, then a pause (the commit is behind us), then the rest in one upstream read
    fake.always["c1"] = Fault(pieces=pieces, stall_after=2, stall=0.1)
    reader, writer = await _exchange(gateway.url, _post(gateway.world.add_key(), stream=True))
    await _response(reader)
    body = (await _chunked_body(reader)).decode()
    writer.close()
    assert body.count("piece ") == len(pieces)
    assert body.rstrip().endswith("data: [DONE]")
    # each read went out in one write, however many upstream chunks it held (33 events)
    assert len(writes) < 10, [w[:60] for w in writes]


async def test_chunk_sizes_are_right_below_and_above_the_precomputed_ones(
    gateway: Gateway, fake: FakeUpstream, writes: list[bytes]
) -> None:
    # DirectBody.write takes the size line of a chunk under 4 KB from a table, others are made
    pieces = ["a", "b" * 4000, "c" * 4200, "d" * 70_000, "e"]
    fake.always["c1"] = Fault(pieces=pieces, stall_after=1, stall=0.05)
    reader, writer = await _exchange(gateway.url, _post(gateway.world.add_key(), stream=True))
    await _response(reader)
    body = (await _chunked_body(reader)).decode()
    writer.close()
    for piece in pieces:
        assert f'"content":"{piece}"' in body
    assert body.rstrip().endswith("data: [DONE]")
    sizes = [int(w.split(b"\r\n", 1)[0], 16) for w in writes[1:] if w[:1] != b"0"]
    assert any(size >= 4096 for size in sizes), sizes


async def test_a_head_with_no_event_ready_leaves_on_its_own(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    head_seen = asyncio.Event()

    async def waiting(self: RelayApp, inbound: Inbound, responder: WebResponder) -> None:
        await responder.start(200, [("content-type", "text/event-stream")])
        await head_seen.wait()  # no body until the client has the head: held, it would hang
        await responder.write(b"data: one\n\n")
        await responder.end()

    monkeypatch.setattr(RelayApp, "serve", waiting)
    reader, writer = await _exchange(gateway.url, _post(gateway.world.add_key(), stream=True))
    status, headers, _ = await _response(reader)
    head_seen.set()
    assert (status, headers["transfer-encoding"]) == (200, "chunked")
    assert await _chunked_body(reader) == b"data: one\n\n"
    writer.close()


@pytest.mark.parametrize(
    "kind",
    [WireFormat.OPENAI_CHAT, WireFormat.ANTHROPIC, WireFormat.GEMINI, WireFormat.OPENAI_RESPONSES],
    ids=["passthrough", "anthropic", "gemini", "responses"],
)
async def test_no_stream_leaves_a_reference_cycle(
    kind: WireFormat, fake: FakeUpstream, world: World
) -> None:
    world.channels.append(channel(fake, 1, kind))
    world.groups.append(group("m", world.channels))
    async with serve_relay(world) as gw:
        key = gw.world.add_key()
        reader, writer = await _exchange(gw.url, _post(key, stream=True))
        await _response(reader)
        await _chunked_body(reader)  # warm: first-use objects are not per request

        async def again() -> None:
            writer.write(_post(key, stream=True))
            assert (await _response(reader))[0] == 200
            assert b"[DONE]" in await _chunked_body(reader)

        kinds = await _left_for_the_collector(again, 10)
        writer.close()
    # nothing a stream makes may wait for the collector: the codecs' encoders and decoders, the
    # stream's timers (keep-alive, silence), which once held their owners
    assert kinds == set(), kinds
