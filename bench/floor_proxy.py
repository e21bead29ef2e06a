"""The Python floor: the least CPU a Python reverse proxy can spend on the bench's traffic.

uvloop protocols and httptools, no framework and no gateway work: each client connection gets
its own kept-alive upstream connection; request bytes go up as they came and response bytes
come back as they came, each read parsed once (to find where a message ends) and written once.
No auth, routing, metering, logging or re-framing. The gateway's CPU above this figure is its
own work; this figure above nginx's is what Python and its event loop cost on the same path.
Run: `python bench/floor_proxy.py --port P --upstream-port U`.
"""

from __future__ import annotations

import argparse
import asyncio
import socket

import httptools
import uvloop


def _no_delay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Upstream(asyncio.Protocol):
    """The upstream side of one client connection: its answers go back byte for byte."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        _no_delay(transport)
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.client.send(data)
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        self.parser = httptools.HttpResponseParser(self)  # the next answer starts fresh

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.client.close()


class Client(asyncio.Protocol):
    """One client connection: its requests go up on one upstream connection, opened once."""

    def __init__(self, loop: asyncio.AbstractEventLoop, upstream_port: int) -> None:
        self.loop = loop
        self.upstream_port = upstream_port
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.upstream: Upstream | None = None
        self.waiting: list[bytes] = []  # request bytes read before the upstream connected

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        _no_delay(transport)
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.close()
            return
        upstream = self.upstream
        if upstream is not None and upstream.transport is not None:
            upstream.transport.write(data)
            return
        self.waiting.append(data)
        if upstream is None:
            self.upstream = Upstream(self)
            self.loop.create_task(self._connect(self.upstream))

    async def _connect(self, upstream: Upstream) -> None:
        try:
            await self.loop.create_connection(lambda: upstream, "127.0.0.1", self.upstream_port)
        except OSError:
            self.close()
            return
        if upstream.transport is not None:
            upstream.transport.write(b"".join(self.waiting))
        self.waiting = []

    def send(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        upstream, self.upstream = self.upstream, None
        if upstream is not None and upstream.transport is not None:
            upstream.transport.close()


async def serve(port: int, upstream_port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: Client(loop, upstream_port), "127.0.0.1", port, backlog=4096
    )
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream-port", type=int, required=True)
    args = parser.parse_args()
    uvloop.run(serve(args.port, args.upstream_port))


if __name__ == "__main__":
    main()
