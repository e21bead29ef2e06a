"""Hostile request bodies on the relay routes: nothing is read before the key is known, caps
hold while reading, any content type is read as JSON, and no body ever gets a 5xx."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from octopus.errors import BadRequest
from octopus.protocols import WireFormat
from octopus.relay.body import read_head
from tests.fakes.gateway import World, channel, fake_upstream, group, serve_relay
from tests.harness import Process, octopus_process
from tests.security import relay_setup as s
from tests.security.conftest import no_traceback, peak_rss_kib

MiB = 1024 * 1024
UPLOAD = 300 * MiB
ROUTES = {
    WireFormat.OPENAI_CHAT: "/v1/chat/completions",
    WireFormat.OPENAI_RESPONSES: "/v1/responses",
    WireFormat.ANTHROPIC: "/v1/messages",
    WireFormat.GEMINI: "/v1beta/models/g:generateContent",
}


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Process]:
    with octopus_process(tmp_path, {"OCTOPUS_RELAY_MAX_BODY_SIZE": str(MiB)}) as process:
        yield process


def _chunked_upload(url: str, path: str, headers: dict[str, str], total: int) -> tuple[int, bytes]:
    """POST `total` bytes chunked over a raw socket; (bytes sent, what came back)."""
    address = urlsplit(url)
    head = [f"POST {path} HTTP/1.1", f"Host: {address.netloc}", "Transfer-Encoding: chunked"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    piece = b"a" * MiB
    framed = b"%x\r\n" % len(piece) + piece + b"\r\n"
    sent, answer = 0, b""
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        with contextlib.suppress(OSError):  # the gateway hangs up on a refused upload
            while sent < total:
                sock.sendall(framed)
                sent += len(piece)
            sock.sendall(b"0\r\n\r\n")
        with contextlib.suppress(OSError):
            answer = sock.recv(65536)
    return sent, answer


@pytest.mark.parametrize("authenticated", [False, True])
def test_a_300_mb_chunked_upload_keeps_memory_flat(
    gateway: Process, tmp_path: Path, authenticated: bool
) -> None:
    headers = {"Content-Type": "application/json"}
    if authenticated:
        with s.admin(gateway.url) as admin:
            headers["Authorization"] = f"Bearer {s.add_key(admin, 'upload')}"
    before = peak_rss_kib(gateway)
    sent, answer = _chunked_upload(gateway.url, "/v1/chat/completions", headers, UPLOAD)
    growth_mib = (peak_rss_kib(gateway) - before) / 1024
    assert growth_mib <= 20, f"peak RSS grew by {growth_mib:.1f} MiB"
    if answer:  # unless the hang-up reset the connection before the answer was read
        status = answer.split(b"\r\n", 1)[0]
        assert status.startswith(b"HTTP/1.1 " + (b"413" if authenticated else b"401")), status
    assert sent < UPLOAD, "the gateway read the whole refused upload"
    assert httpx.get(gateway.url + "/v1/models").status_code == 401  # still serving
    no_traceback(gateway)


def test_bodies_are_read_as_json_whatever_their_content_type(gateway: Process) -> None:
    asyncio.run(_content_types(gateway))
    no_traceback(gateway)


async def _content_types(gateway: Process) -> None:
    async with fake_upstream() as fake:
        with s.admin(gateway.url) as admin:
            s.add_group(admin, "g", [s.add_channel(admin, fake, "c1")])
            key = s.add_key(admin, "curl")
        auth = {"Authorization": f"Bearer {key}"}
        form = {**auth, "Content-Type": "application/x-www-form-urlencoded"}  # curl -d
        ask = json.dumps({"model": "g", "messages": [{"role": "user", "content": "hi"}]})
        async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
            ok = await http.post("/v1/chat/completions", headers=form, content=ask)
            assert ok.status_code == 200, ok.text
            for fmt, route in ROUTES.items():
                for bad in (
                    b"model=g&messages=hi",
                    b'{"model":"g","x":' + b"[" * 1000 + b"]" * 1000 + b"}",
                    b'{"model":"\xff\xfe","messages":[]}',
                ):
                    reply = await http.post(route, headers=form, content=bad)
                    assert 400 <= reply.status_code < 500, (fmt, bad[:40], reply.text)
                    _in_protocol(fmt, reply.json())
            nested = b'{"model":"g","messages":[{"role":"user","content":"\xc3\x28"}]}'
            reply = await http.post("/v1/chat/completions", headers=form, content=nested)
            assert reply.status_code == 400  # the provider's own refusal, relayed as it came


def _in_protocol(fmt: WireFormat, doc: dict[str, object]) -> None:
    """The error body has the caller's own error shape."""
    if fmt is WireFormat.ANTHROPIC:
        assert doc["type"] == "error"
    error = doc["error"]
    assert isinstance(error, dict)
    assert error["message"]
    if fmt is WireFormat.GEMINI:
        assert "status" in error


# JSON-ish bodies: real JSON of many shapes, with the model sometimes right, plus raw bytes
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_bodies = (
    st.binary(max_size=600)
    | _json.map(lambda v: json.dumps(v).encode())
    | st.dictionaries(
        st.sampled_from(
            ["model", "messages", "stream", "input", "contents", "max_tokens", "system"]
        ),
        _json,
        max_size=5,
    ).map(lambda d: json.dumps({"model": "g", **d} if "model" not in d else d).encode())
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_bodies)
def test_the_head_reader_accepts_or_refuses_any_bytes_cleanly(body: bytes) -> None:
    try:
        head = read_head(body)
    except BadRequest:
        return
    assert isinstance(head.model, str)
    assert isinstance(head.stream, bool)


def test_any_body_on_any_route_gets_a_2xx_or_4xx() -> None:
    with asyncio.Runner() as runner:
        exits = contextlib.AsyncExitStack()
        fake = runner.run(exits.enter_async_context(fake_upstream()))
        world = World()
        world.channels.append(channel(fake, 1))
        world.groups.append(group("g", world.channels))
        key = world.add_key()
        gw = runner.run(exits.enter_async_context(serve_relay(world)))
        http = runner.run(exits.enter_async_context(httpx.AsyncClient(timeout=30)))
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

        @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
        @given(body=_bodies, fmt=st.sampled_from(list(ROUTES)))
        def check(body: bytes, fmt: WireFormat) -> None:
            reply = runner.run(http.post(gw.url + ROUTES[fmt], headers=headers, content=body))
            assert reply.status_code < 500, (fmt, body[:200], reply.text[:300])

        try:
            check()
        finally:
            runner.run(exits.aclose())
