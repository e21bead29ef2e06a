"""Tiny loopback proxies for transport tests: an HTTP forward proxy and a SOCKS5 proxy.

Both only pipe bytes to the requested target and count the connections they carried.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from urllib.parse import urlsplit


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


async def _join(
    client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    target: tuple[asyncio.StreamReader, asyncio.StreamWriter],
) -> None:
    await asyncio.gather(_pipe(client[0], target[1]), _pipe(target[0], client[1]))


class Proxy:
    def __init__(self) -> None:
        self.connections = 0
        self.targets: list[str] = []
        self.url = ""
        self._server: asyncio.Server | None = None

    async def start(self, scheme: str) -> Proxy:
        handler = self._http if scheme == "http" else self._socks
        self._server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"{scheme}://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Absolute-form requests: open the target and pass the bytes on unchanged."""
        self.connections += 1
        head = await reader.readuntil(b"\r\n")
        parts = urlsplit(head.split()[1].decode())
        self.targets.append(parts.netloc)
        target = await asyncio.open_connection(parts.hostname, parts.port)
        target[1].write(head)
        await _join((reader, writer), target)

    async def _socks(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        _version, count = await reader.readexactly(2)
        await reader.readexactly(count)
        writer.write(b"\x05\x00")
        _v, _cmd, _rsv, kind = await reader.readexactly(4)
        if kind == 3:
            host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
        else:
            host = ".".join(str(b) for b in await reader.readexactly(4))
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        self.targets.append(f"{host}:{port}")
        target = await asyncio.open_connection(host, port)
        writer.write(b"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00")
        await _join((reader, writer), target)
