"""A raw-socket upstream that streams generated SSE bytes: huge, endless or trickling streams.

It answers every request with `200 text/event-stream` (chunked) and writes the chunks an
iterator yields (an empty chunk is a short pause), keeping only a running SHA-256 and byte count of what it sent, so a test can
check byte identity of a stream far larger than it wants to hold in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field

from octopus.protocols import WireFormat
from octopus.routing.catalog import Channel, ChannelKey

HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
    b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
)


@dataclass
class Sent:
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    size: int = 0
    finished: bool = False


@dataclass
class HostileUpstream:
    """`chunks()` makes the body of each answer; `sent` describes the last one."""

    chunks: Callable[[], Iterator[bytes]]
    port: int = 0
    sent: Sent = field(default_factory=Sent)

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        self.sent = sent = Sent()
        writer.write(HEAD)
        with contextlib.suppress(ConnectionError):
            for chunk in self.chunks():
                if not chunk:  # a pause: what came before is read on its own
                    await asyncio.sleep(0.05)
                    continue
                sent.digest.update(chunk)
                sent.size += len(chunk)
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            sent.finished = True
        writer.close()

    def channel(self, cid: int = 1, kind: WireFormat = WireFormat.OPENAI_CHAT) -> Channel:
        return Channel(
            id=cid,
            name=f"hostile{cid}",
            type=kind,
            base_url=f"http://127.0.0.1:{self.port}/v1",
            keys=(ChannelKey(cid * 100, f"upstream-secret-hostile-{cid}"),),
            models=frozenset({"up-model"}),
        )


@contextlib.asynccontextmanager
async def serve_hostile(chunks: Callable[[], Iterator[bytes]]) -> AsyncIterator[HostileUpstream]:
    upstream = HostileUpstream(chunks)
    server = await asyncio.start_server(upstream._answer, "127.0.0.1", 0)
    upstream.port = server.sockets[0].getsockname()[1]
    try:
        yield upstream
    finally:
        server.close()
        await server.wait_closed()
