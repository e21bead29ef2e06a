"""The lean transport's HTTP/1.1 framing and pooling, against a raw scripted loopback server."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from octopus.errors import UpstreamConnect, UpstreamProtocol, UpstreamTimeout
from octopus.upstream.aiohttp_transport import AiohttpTransport
from octopus.upstream.http1 import HIGH_WATER, PUSH_MAX
from octopus.upstream.lean_transport import KEEPALIVE_SECONDS, LeanTransport, keep_seconds
from octopus.upstream.transport import UpstreamRequest

Script = Callable[[asyncio.StreamWriter, int], Awaitable[None]]  # (writer, request number)
JSON_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"


class RawServer:
    """Reads each request whole (Content-Length bodies), then lets `script` answer it."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self.requests: list[bytes] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    def request(self, body: bytes = b'{"a":1}', method: str = "POST") -> UpstreamRequest:
        url = f"http://127.0.0.1:{self.port}/v1/x?y=1"
        return UpstreamRequest(method, url, [("X-Test", "1")], body, read_timeout=2.0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = [
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ]
                self.requests.append(head + await reader.readexactly(length[0] if length else 0))
                await self.script(writer, len(self.requests))
                if writer.is_closing():
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def lean() -> AsyncIterator[LeanTransport]:
    t = LeanTransport(proxied=AiohttpTransport())
    yield t
    await t.aclose()


async def _whole(lean: LeanTransport, request: UpstreamRequest) -> tuple[int, bytes]:
    resp = await lean.send(request)
    try:
        return resp.status, await resp.read()
    finally:
        await resp.aclose()


async def _json_ok(writer: asyncio.StreamWriter, n: int) -> None:
    writer.write(JSON_OK + b'{"ok":true}')


async def test_content_length_answers_reuse_one_connection(lean: LeanTransport) -> None:
    async with RawServer(_json_ok) as server:
        for _ in range(3):
            assert await _whole(lean, server.request()) == (200, b'{"ok":true}')
        assert server.connections == 1
        first = server.requests[0]
        assert first.startswith(b"POST /v1/x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:")
        assert b"X-Test: 1\r\n" in first
        assert b"Content-Length: 7\r\n" in first
        assert first.endswith(b'\r\n\r\n{"a":1}')


async def test_chunked_body_arrives_chunk_by_chunk(lean: LeanTransport) -> None:
    go_on = asyncio.Event()

    async def chunked(writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await go_on.wait()
        writer.write(b"6\r\nsecond\r\n0\r\n\r\n")

    async with RawServer(chunked) as server:
        resp = await lean.send(server.request())
        chunks = resp.aiter_bytes()
        assert await anext(chunks) == b"first"  # before the upstream sent the rest
        go_on.set()
        assert [c async for c in chunks] == [b"second"]
        await resp.aclose()
        go_on.clear()
        go_on.set()
        assert await _whole(lean, server.request()) == (200, b"firstsecond")
        assert server.connections == 1


async def test_close_delimited_body_ends_with_the_connection(lean: LeanTransport) -> None:
    async def until_close(writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it")
        await writer.drain()
        writer.close()

    async with RawServer(until_close) as server:
        assert await _whole(lean, server.request()) == (200, b"all of it")
        assert await _whole(lean, server.request()) == (200, b"all of it")
        assert server.connections == 2


async def test_connection_close_answer_is_not_reused(lean: LeanTransport) -> None:
    async def closing(writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(
            JSON_OK.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n") + b"{}{}{}{}{}{"
        )

    async with RawServer(closing) as server:
        await _whole(lean, server.request())
        await _whole(lean, server.request())
        assert server.connections == 2


async def test_a_body_left_unread_closes_the_connection(lean: LeanTransport) -> None:
    async def big(writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)

    async with RawServer(big) as server:
        resp = await lean.send(server.request())
        await resp.aclose()
        resp = await lean.send(server.request())
        await resp.aclose()
        assert server.connections == 2


async def test_cut_body_is_upstream_connect(lean: LeanTransport) -> None:
    async def cut(writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
        await writer.drain()
        writer.close()

    async with RawServer(cut) as server:
        resp = await lean.send(server.request())
        with pytest.raises(UpstreamConnect, match="connection lost while reading"):
            await resp.read()
        await resp.aclose()


async def test_garbage_answer_is_upstream_protocol(lean: LeanTransport) -> None:
    async def garbage(writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"SMTP ready\r\n\r\n")

    async with RawServer(garbage) as server:
        with pytest.raises(UpstreamProtocol, match="invalid HTTP response"):
            await lean.send(server.request())


async def test_silence_in_the_body_is_upstream_timeout(lean: LeanTransport) -> None:
    async def stall(writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await asyncio.sleep(5)

    async with RawServer(stall) as server:
        request = server.request()
        request = UpstreamRequest(request.method, request.url, read_timeout=0.2)
        resp = await lean.send(request)
        with pytest.raises(UpstreamTimeout, match="reading the response"):
            await resp.read()
        await resp.aclose()


async def test_a_line_break_in_a_header_is_refused_before_sending(lean: LeanTransport) -> None:
    async with RawServer(_json_ok) as server:
        request = server.request()
        bad = UpstreamRequest("POST", request.url, [("X-A", "b\r\nX-Injected: 1")], b"{}")
        with pytest.raises(UpstreamConnect, match="line break"):
            await lean.send(bad)
        assert server.connections == 0


async def test_unread_bytes_stay_bounded(lean: LeanTransport) -> None:
    """A fast upstream and a client that does not read: reading pauses, memory stays bounded."""
    size = 16 * 1024 * 1024

    async def flood(writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
        for _ in range(size // 65536):
            writer.write(b"x" * 65536)
            await writer.drain()

    async with RawServer(flood) as server:
        resp = await lean.send(server.request())
        await asyncio.sleep(0.5)
        conn = resp._conn  # type: ignore[attr-defined]
        assert conn is not None
        assert conn.paused
        assert conn.buffered < HIGH_WATER + 1024 * 1024
        total = 0
        async for chunk in resp.aiter_bytes():
            total += len(chunk)
        assert total == size


async def test_an_idle_connection_the_server_closed_is_not_used(lean: LeanTransport) -> None:
    async def once(writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(JSON_OK + b'{"ok":true}')
        await writer.drain()
        writer.close()  # closes without saying so: the pooled connection dies while idle

    async with RawServer(once) as server:
        await _whole(lean, server.request())
        await asyncio.sleep(0.1)
        assert await _whole(lean, server.request()) == (200, b'{"ok":true}')
        assert server.connections == 2


async def test_an_announced_keep_alive_timeout_is_honoured(lean: LeanTransport) -> None:
    """An upstream that keeps idle connections 2 s (and says so) drops a request that arrives
    on one idle longer, as its close crossing our write would: after the announced time minus
    a second, the next POST goes on a fresh connection and is answered."""
    idle_at: dict[int, float] = {}

    async def keep_two_seconds(writer: asyncio.StreamWriter, n: int) -> None:
        loop = asyncio.get_running_loop()
        since = idle_at.get(id(writer))
        if since is not None and loop.time() - since > 1.2:
            writer.close()  # the server's idle close met the request
            return
        answer = b"HTTP/1.1 200 OK\r\nKeep-Alive: timeout=2, max=100\r\nContent-Length: 11\r\n\r\n"
        writer.write(answer + b'{"ok":true}')
        idle_at[id(writer)] = loop.time()

    async with RawServer(keep_two_seconds) as server:
        assert await _whole(lean, server.request()) == (200, b'{"ok":true}')
        assert await _whole(lean, server.request()) == (200, b'{"ok":true}')  # reused at once
        await asyncio.sleep(1.5)
        assert await _whole(lean, server.request()) == (200, b'{"ok":true}')
        assert (server.connections, len(server.requests)) == (2, 3)


def test_keep_alive_header_readings() -> None:
    assert keep_seconds([("Keep-Alive", "timeout=5, max=1000")]) == 4.0
    assert keep_seconds([("keep-alive", "max=3,timeout=1")]) == 0.0  # not kept at all
    assert keep_seconds([("Keep-Alive", "timeout=9000")]) == KEEPALIVE_SECONDS
    assert keep_seconds([("Keep-Alive", "timeout=soon")]) == KEEPALIVE_SECONDS
    assert keep_seconds([]) == KEEPALIVE_SECONDS


def _answer_once_then_drop(writer: asyncio.StreamWriter, n: int) -> Awaitable[None]:
    """The second request is read and dropped unanswered; the others are answered keep-alive."""

    async def script() -> None:
        if n == 2:
            writer.close()
        else:
            writer.write(JSON_OK + b'{"ok":true}')

    return script()


async def test_a_post_lost_on_a_pooled_connection_is_never_sent_twice(lean: LeanTransport) -> None:
    async with RawServer(_answer_once_then_drop) as server:
        await _whole(lean, server.request())
        with pytest.raises(UpstreamConnect, match="closed the connection"):
            await lean.send(server.request())
        assert (server.connections, len(server.requests)) == (1, 2)


async def test_a_get_lost_on_a_pooled_connection_goes_once_more_on_a_fresh_one(
    lean: LeanTransport,
) -> None:
    async with RawServer(_answer_once_then_drop) as server:
        await _whole(lean, server.request(b"", "GET"))
        assert await _whole(lean, server.request(b"", "GET")) == (200, b'{"ok":true}')
        assert (server.connections, len(server.requests)) == (2, 3)


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (openssl), trusted only when a test says so."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def _tls_server(cert: str, key: str) -> asyncio.Server:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b'\r\n\r\n{"a":1}')
        writer.write(JSON_OK + b'{"ok":true}')
        await writer.drain()
        writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)


async def test_https_verifies_the_certificate(tls_files: tuple[str, str]) -> None:
    cert, key = tls_files
    server = await _tls_server(cert, key)
    port = server.sockets[0].getsockname()[1]
    request = UpstreamRequest("POST", f"https://127.0.0.1:{port}/v1", (), b'{"a":1}')
    default = LeanTransport(proxied=AiohttpTransport())
    trusting = LeanTransport(
        proxied=AiohttpTransport(), ssl_context=ssl.create_default_context(cafile=cert)
    )
    try:
        with pytest.raises(UpstreamConnect, match="CERTIFICATE_VERIFY_FAILED"):
            await default.send(request)
        assert await _whole(trusting, request) == (200, b'{"ok":true}')
    finally:
        await default.aclose()
        await trusting.aclose()
        server.close()


async def test_pushed_reads_go_on_in_bounded_joins_and_in_order(lean: LeanTransport) -> None:
    """A burst read reaches the sink joined up to PUSH_MAX bytes at a time, in order; a sink
    that holds on the read's last join gets the reader back at once (the upstream says nothing
    more until then); paced pieces come one call each."""
    pieces = [b"%05d" % i + b"x" * 995 for i in range(50)]  # 50 KB, written at once
    go_on = asyncio.Event()

    def chunk(data: bytes) -> bytes:
        return b"%x\r\n%b\r\n" % (len(data), data)

    async def burst(writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(b"first"))
        await asyncio.sleep(0.1)
        writer.write(b"".join(map(chunk, pieces)))
        await go_on.wait()
        for data in (chunk(b"paced one"), chunk(b"paced two")):
            writer.write(data)
            await writer.drain()
            await asyncio.sleep(0.1)
        writer.write(b"0\r\n\r\n")

    calls: list[bytes] = []

    def sink(data: bytes) -> bool:
        calls.append(data)
        return len(calls) == 4  # hold on the burst read's last join

    async with RawServer(burst) as server:
        resp = await lean.send(server.request())
        rounds = 0
        while not await resp.push(sink):
            rounds += 1
            go_on.set()
        await resp.aclose()
    assert b"".join(calls) == b"first" + b"".join(pieces) + b"paced onepaced two"
    assert rounds == 1
    joins = PUSH_MAX // 1000 + 1  # pieces per join: whole pieces until PUSH_MAX is reached
    assert [len(c) for c in calls[1:4]] == [joins * 1000, joins * 1000, (50 - 2 * joins) * 1000]
    assert calls[4:] == [b"paced one", b"paced two"]
