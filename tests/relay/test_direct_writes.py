"""Streams written directly to the connection (web/direct.py) against the same streams through
ASGI `send`: the same bytes, one ASGI message per stream instead of one per event, and the
upstream's silence bound still measured from its last byte."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import httpx
import uvicorn

from octopus.protocols import WireFormat
from octopus.records.bodies import BODY_MARK, BodyMode, BodyPolicy
from octopus.relay.exchange import ExchangeLimits
from octopus.relay.service import RelayLimits, RelayService
from octopus.routing.catalog import RelayConfig
from octopus.web.direct import DirectHttpProtocol
from octopus.web.relay_asgi import Message, Receive, Scope, Send
from octopus.web.relay_routes import RelayApp
from tests.conftest import bound_port
from tests.fakes.gateway import World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault

PIECES = [f"piece {i} " for i in range(120)]
BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}


class CountingApp:
    """The relay app, counting the response body messages it hands to the server."""

    def __init__(self, service: RelayService) -> None:
        self._app = RelayApp(service)
        self.bodies = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted(message: Message) -> None:
            if message["type"] == "http.response.body":
                self.bodies += 1
            await send(message)

        await self._app(scope, receive, counted)


@asynccontextmanager
async def _server(app: CountingApp, http: type[asyncio.Protocol] | str) -> AsyncIterator[str]:
    config = uvicorn.Config(
        app, port=0, lifespan="off", log_config=None, access_log=False, loop="none", http=http
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.005)
        yield f"http://127.0.0.1:{bound_port(server)}"
    finally:
        server.should_exit = True
        await task


async def _stream(url: str, key: str, kind: str = "/v1/chat/completions") -> bytes:
    async with (
        httpx.AsyncClient(timeout=30) as http,
        http.stream("POST", url + kind, headers={"Authorization": f"Bearer {key}"}, json=BODY) as r,
    ):
        assert r.status_code == 200
        return b"".join([chunk async for chunk in r.aiter_raw()])


async def test_direct_writes_send_the_same_bytes_without_a_message_per_event(
    fake: FakeUpstream, world: World
) -> None:
    world.channels.append(channel(fake, 1, WireFormat.OPENAI_CHAT))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    fake.always["c1"] = Fault(pieces=PIECES, gap=0.002)  # paced: about one event per read
    async with serve_relay(world) as gw:
        direct, plain = CountingApp(gw.service), CountingApp(gw.service)
        async with _server(direct, DirectHttpProtocol) as fast, _server(plain, "httptools") as slow:
            through_direct = await _stream(fast, key)
            through_send = await _stream(slow, key)
    assert through_direct == through_send
    assert all(piece.encode() in through_direct for piece in PIECES)
    assert plain.bodies > len(PIECES) // 2  # a message per read through ASGI
    assert direct.bodies <= 3  # the pre-commit head, the end: the events went direct
    assert [r.status for r in gw.sink.records] == ["success", "success"]


async def test_the_log_keeps_the_head_of_a_paced_stream_that_went_direct(
    fake: FakeUpstream, world: World
) -> None:
    """Paced reads of one whole chunk go on as they came: the record still keeps what the
    client got, up to the limit."""
    world.channels.append(channel(fake, 1, WireFormat.OPENAI_CHAT))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    fake.always["c1"] = Fault(pieces=PIECES, gap=0.002)
    limits = RelayLimits(bodies=BodyPolicy(mode=BodyMode.ALL, max_bytes=3000))
    async with (
        serve_relay(world, limits=limits) as gw,
        _server(CountingApp(gw.service), DirectHttpProtocol) as url,
    ):
        raw = await _stream(url, key)
    assert len(raw) > 3000
    assert gw.sink.records[0].response_body == raw[:3000] + BODY_MARK


async def test_a_converted_stream_goes_direct_too(fake: FakeUpstream, world: World) -> None:
    """Anthropic client -> OpenAI channel: decoded, encoded and written from the upstream's
    callback; the text arrives whole and in order."""
    world.channels.append(channel(fake, 1, WireFormat.OPENAI_CHAT))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    fake.always["c1"] = Fault(pieces=PIECES, gap=0.002)
    async with serve_relay(world) as gw:
        app = CountingApp(gw.service)
        async with _server(app, DirectHttpProtocol) as url:
            body = {**BODY, "max_tokens": 100}
            async with (
                httpx.AsyncClient(timeout=30) as http,
                http.stream(
                    "POST", url + "/v1/messages", headers={"x-api-key": key}, json=body
                ) as r,
            ):
                raw = b"".join([chunk async for chunk in r.aiter_raw()])
    deltas = [line for line in raw.split(b"\n") if b'"text_delta"' in line]
    assert b"".join(deltas).count(b"piece ") == len(PIECES)
    assert raw.index(b"piece 0 ") < raw.index(b"piece 119 ")
    assert b"message_stop" in raw
    assert app.bodies <= 3
    assert gw.sink.records[0].status == "success"


async def test_a_paced_stream_longer_than_the_silence_bound_is_not_cut(
    fake: FakeUpstream, world: World
) -> None:
    """Events every 0.6 s for about 4 s against a 1.5 s silence bound: the bound counts from
    the last byte, not from the start of the stream."""
    bound = 1.5
    world.channels.append(channel(fake, 1, WireFormat.OPENAI_CHAT))
    config = replace(RelayConfig(), first_token_timeout=30.0)
    world.groups.append(group("m", world.channels, config=config))
    key = world.add_key()
    pieces = [f"slow {i} " for i in range(7)]
    fake.always["c1"] = Fault(pieces=pieces, gap=0.6)
    limits = RelayLimits(exchange=ExchangeLimits(connect_timeout=2.0, stream_idle_timeout=bound))
    async with serve_relay(world, limits=limits) as gw:
        app = CountingApp(gw.service)
        async with _server(app, DirectHttpProtocol) as url:
            raw = await _stream(url, key)
    assert all(piece.encode() in raw for piece in pieces)
    assert b"timed out" not in raw
    assert gw.sink.records[0].status == "success"
