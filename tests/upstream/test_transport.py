"""Both transports (aiohttp, and the lean pool that hands proxied channels to aiohttp): proxies
(direct, HTTP, SOCKS5), error translation, secret scrubbing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from octopus.errors import UpstreamConnect, UpstreamTimeout
from octopus.upstream.aiohttp_transport import AiohttpTransport
from octopus.upstream.lean_transport import LeanTransport
from octopus.upstream.transport import Transport, UpstreamRequest
from tests.fakes.fixtures import fake
from tests.fakes.proxies import Proxy
from tests.fakes.upstream import FakeUpstream, Fault

__all__ = ["fake"]
BODY = b'{"model":"m","messages":[]}'


@pytest.fixture(params=["aiohttp", "lean"])
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[Transport]:
    t: Transport = AiohttpTransport()
    if request.param == "lean":
        t = LeanTransport(proxied=t)
    yield t
    await t.aclose()


def _request(
    fake: FakeUpstream, proxy: str | None = None, timeout: float = 30.0
) -> UpstreamRequest:
    url = f"{fake.url}/c1/v1/chat/completions"
    headers = [("Content-Type", "application/json")]
    return UpstreamRequest("POST", url, headers, BODY, proxy_url=proxy, read_timeout=timeout)


async def _roundtrip(transport: Transport, request: UpstreamRequest) -> bytes:
    resp = await transport.send(request)
    try:
        assert resp.status == 200
        assert resp.header("X-REQUEST-ID") == "req-c1"
        return await resp.read()
    finally:
        await resp.aclose()


@pytest.mark.parametrize("scheme", ["http", "socks5"])
async def test_requests_go_through_the_channel_proxy(
    fake: FakeUpstream, transport: Transport, scheme: str
) -> None:
    proxy = await Proxy().start(scheme)
    try:
        body = await _roundtrip(transport, _request(fake, proxy.url))
        assert body == fake.sent["c1"]
        assert proxy.connections == 1
        assert proxy.targets == [fake.url.removeprefix("http://")]
        await _roundtrip(transport, _request(fake))  # direct: the proxy sees nothing more
        assert proxy.connections == 1
    finally:
        await proxy.stop()


async def test_connect_refused_is_upstream_connect(transport: Transport, refused_port: int) -> None:
    url = f"http://127.0.0.1:{refused_port}/v1/chat/completions"
    with pytest.raises(UpstreamConnect) as caught:
        await transport.send(UpstreamRequest("POST", url, body=BODY, secrets=("s3cr3t-key",)))
    assert "s3cr3t-key" not in str(caught.value)
    assert f"127.0.0.1:{refused_port}" in str(caught.value)  # the admin's log names the address


async def test_connect_timeout_is_upstream_connect(
    transport: Transport, unanswered_port: int
) -> None:
    """Nothing was sent, so nothing is billed: a connect timeout is not an upstream timeout."""
    url = f"http://127.0.0.1:{unanswered_port}/v1/chat/completions"
    request = UpstreamRequest("POST", url, body=BODY, connect_timeout=0.5)
    with pytest.raises(UpstreamConnect, match="connection timed out"):
        await transport.send(request)


async def test_slow_headers_are_upstream_timeout(fake: FakeUpstream, transport: Transport) -> None:
    fake.script("c1", Fault(delay=1.0))
    with pytest.raises(UpstreamTimeout):
        await transport.send(_request(fake, timeout=0.2))


async def test_cut_body_is_upstream_connect(fake: FakeUpstream, transport: Transport) -> None:
    fake.script("c1", Fault(drop_after=2))
    request = UpstreamRequest(
        "POST", f"{fake.url}/c1/v1/chat/completions", body=b'{"model":"m","stream":true}'
    )
    resp = await transport.send(request)
    with pytest.raises(UpstreamConnect):
        await resp.read()
    await resp.aclose()


async def test_sessions_are_pooled_per_proxy(fake: FakeUpstream) -> None:
    transport = AiohttpTransport()
    try:
        await asyncio.gather(*[_roundtrip(transport, _request(fake)) for _ in range(5)])
        assert list(transport._sessions) == [""]
    finally:
        await transport.aclose()
