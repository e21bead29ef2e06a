"""The soak's load client against a loopback server that, like the gateway's uvicorn, closes a
keep-alive connection idle for its timeout: such a connection is replaced, never counted as a
gateway error (the soak's 20 "connection closed" of 290,000 requests were exactly that)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import lean_client as lc
import pytest
import scenarios as sc

KEEP_ALIVE = 0.2  # the server's keep-alive timeout, shrunk from uvicorn's 75 s
BODY = b'{"ok":true}'
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)


class IdleClosingServer(asyncio.Protocol):
    """Answers every request; closes the connection KEEP_ALIVE after an answer with none since
    (uvicorn's rule: a connection that never carried a request is not timed)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head, found, rest = self.buffer.partition(b"\r\n\r\n")
        if not found:
            return
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        if len(rest) < length:
            return
        self.buffer = rest[length:]
        if self.timer is not None:
            self.timer.cancel()
        assert self.transport is not None
        self.transport.write(ANSWER)
        self.timer = asyncio.get_running_loop().call_later(KEEP_ALIVE, self.transport.close)


@pytest.fixture
async def port() -> AsyncIterator[int]:
    server = await asyncio.get_running_loop().create_server(IdleClosingServer, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


def _soak_run(port: int) -> sc._SoakRun:
    probe = sc.Probe(port, "sk-test", list, list, ("0", "0"))
    return sc._SoakRun(probe, 10.0, (lambda: 0, lambda: 0))


async def _idle_past_keep_alive(port: int) -> lc.Conn:
    [conn] = await lc.connect(port, 1)
    call = lc.plain_call("sk-test", "m")
    assert (await lc.ask(conn, call, 2)).ok(call)
    await asyncio.sleep(KEEP_ALIVE * 2)
    assert conn.transport is None  # the server closed it, as the gateway does after 75 s
    return conn


async def test_a_connection_the_server_closed_idle_is_replaced_not_an_error(port: int) -> None:
    run = _soak_run(port)
    conn = await _idle_past_keep_alive(port)
    idle: list[lc.Conn] = []
    await run._one(conn, idle)
    assert run.counts["errors"] == 0, run.out.error_sample
    assert run.counts["requests"] == 1
    assert len(idle) == 1
    assert idle[0] is not conn
    assert idle[0].reusable()
    lc.close(idle)


async def test_a_connection_idle_near_the_server_timeout_is_not_reused(
    port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replaced before the server's close can cross the request on the wire."""
    monkeypatch.setattr(lc, "REUSE_IDLE_S", KEEP_ALIVE / 2)
    [conn] = await lc.connect(port, 1)
    call = lc.plain_call("sk-test", "m")
    assert (await lc.ask(conn, call, 2)).ok(call)
    await asyncio.sleep(KEEP_ALIVE * 0.75)
    assert conn.transport is not None
    assert not conn.reusable()
    fresh = await lc.kept_alive(conn, port)
    assert fresh is not conn
    assert conn.transport is None or conn.transport.is_closing()
    assert (await lc.ask(fresh, call, 2)).ok(call)
    lc.close([fresh])


async def test_the_soak_counts_errors_by_kind(port: int) -> None:
    run = _soak_run(port)
    run._failed(lc.Answer(error="connection lost: ConnectionResetError()"), run.plain)
    run._failed(lc.Answer(status=502), run.plain)
    run._failed(lc.Answer(status=502), run.plain)
    assert run.out.error_kinds == {"connection lost": 1, "status 502": 2}


def test_a_ratio_to_a_passthrough_figure_under_the_resolution_is_none() -> None:
    assert sc.resolved_ratio(0.4, 0.0) is None
    assert sc.resolved_ratio(0.4, sc.RESOLUTION_US / 2) is None
    assert sc.resolved_ratio(0.4, 0.2) == pytest.approx(2.0)
