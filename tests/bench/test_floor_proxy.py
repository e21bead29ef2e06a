"""The Python floor (bench/floor_proxy.py) is a real proxy: the bench's own upstream behind it
answers plain requests and paced streams through it, in full, on one kept-alive connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import floor_proxy
import lean_client as lc
import pytest

import upstream


@pytest.fixture
async def floor_port() -> AsyncIterator[int]:
    loop = asyncio.get_running_loop()
    answers = upstream.Answers(5)
    origin = await loop.create_server(
        lambda: upstream.UpstreamProtocol(answers, 0.0), "127.0.0.1", 0
    )
    origin_port = origin.sockets[0].getsockname()[1]
    proxy = await loop.create_server(lambda: floor_proxy.Client(loop, origin_port), "127.0.0.1", 0)
    yield proxy.sockets[0].getsockname()[1]
    proxy.close()
    origin.close()


async def test_answers_and_paced_streams_pass_in_full_on_one_connection(floor_port: int) -> None:
    [conn] = await lc.connect(floor_port, 1)
    plain = lc.plain_call("sk-test", "m")
    stream = lc.openai_call("sk-test", "m", 20, 2)
    for call in (plain, stream, plain, stream):
        answer = await lc.ask(conn, call, 10)
        assert answer.ok(call), answer.error or bytes(answer.body)[-200:]
    assert conn.transport is not None  # kept alive through the proxy
    lc.close([conn])


async def test_an_upstream_that_is_down_closes_the_client_connection() -> None:
    loop = asyncio.get_running_loop()
    probe = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
    dead_port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    proxy = await loop.create_server(lambda: floor_proxy.Client(loop, dead_port), "127.0.0.1", 0)
    [conn] = await lc.connect(proxy.sockets[0].getsockname()[1], 1)
    answer = await lc.ask(conn, lc.plain_call("sk-test", "m"), 10)
    assert answer.error.startswith("connection lost")
    proxy.close()
