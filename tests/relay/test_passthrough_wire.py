"""Passthrough honesty: non-canonical upstream bytes reach a same-protocol client unchanged.

The fake sends spaced JSON with reversed keys, escapes and `1.0e2`, and SSE with CRLF / CR / LF
endings, `data:` without a space, `id:` lines, comments, multi-line data and a last event without
its blank line, cut into writes inside UTF-8 sequences. A relay that re-encodes a body or
re-frames an event fails here; the conversion path must still read the same stream correctly.
"""

from __future__ import annotations

import httpx
import pytest

from octopus.protocols import WireFormat
from tests.fakes import wire
from tests.fakes.gateway import World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault
from tests.relay.clients import PROTOCOLS, sdk_stream_text, sdk_text
from tests.relay.test_passthrough import CALLS, _stream_call

KEY_HEADERS = ("x-api-key", "x-goog-api-key")
SDK_FORMATS = {
    "openai": WireFormat.OPENAI_CHAT,
    "responses": WireFormat.OPENAI_RESPONSES,
    "anthropic": WireFormat.ANTHROPIC,
    "gemini": WireFormat.GEMINI,
}


def _wire_for(fmt: WireFormat, *, stream: bool) -> list[bytes]:
    return wire.stream(fmt, "up-model") if stream else [wire.body(fmt, "up-model", "c1")]


def _cut_in_utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError as exc:
        return exc.reason == "unexpected end of data"
    return False


def test_the_wire_is_really_non_canonical() -> None:
    """Guard the fixture itself: every oddity the tests rely on is present in what is sent."""
    for fmt in WireFormat:
        writes = wire.stream(fmt, "up-model")
        sent = b"".join(writes)
        for needle in (b"\r\n", b"data:{", b"id: ", b"\n: upstream", b" : ", b"1.0e2", b"\\u00e9"):
            assert needle in sent or (needle == b"\n: upstream" and sent.startswith(b": ")), needle
        assert b"\r\r" in sent
        assert not sent.endswith(b"\n\n")
        assert any(_cut_in_utf8(w) for w in writes)
        assert any(w.endswith(b"\r") for w in writes[:-1])  # and one between CR and LF
        body = wire.body(fmt, "up-model", "c1")
        assert b"\r\n" in body
        assert b"1.0e2" in body
        assert b"\\u00e9" in body


@pytest.mark.parametrize("fmt", list(WireFormat))
@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
async def test_odd_bytes_pass_through_identical(
    fake: FakeUpstream, world: World, fmt: WireFormat, stream: bool
) -> None:
    world.channels.append(channel(fake, 1, fmt))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    fake.always["c1"] = Fault(wire=_wire_for(fmt, stream=stream))
    path, body = _stream_call(fmt) if stream else CALLS[fmt]
    headers = dict.fromkeys(KEY_HEADERS, key)
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        async with http.stream("POST", gw.url + path, headers=headers, json=body) as resp:
            received = b"".join([chunk async for chunk in resp.aiter_raw()])
        assert resp.status_code == 200
        assert received == fake.sent["c1"] == b"".join(_wire_for(fmt, stream=stream))
        record = gw.sink.records[0]
        assert record.status == "success"
        assert (record.usage.input, record.usage.output, record.usage.estimated) == (11, 7, False)


# google-genai's own SSE reader chokes on comment lines (Gemini sends none): its byte identity
# is covered above, and its SDK reads odd JSON bodies here
SDK_CASES = [(p, s) for p in PROTOCOLS for s in (False, True) if (p, s) != ("gemini", True)]


@pytest.mark.parametrize(("protocol", "stream"), SDK_CASES)
async def test_sdks_read_the_odd_bytes(
    fake: FakeUpstream, world: World, protocol: str, stream: bool
) -> None:
    """The same bytes through the official SDKs: the text survives every oddity."""
    fmt = SDK_FORMATS[protocol]
    world.channels.append(channel(fake, 1, fmt))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    fake.always["c1"] = Fault(wire=_wire_for(fmt, stream=stream))
    async with serve_relay(world) as gw:
        call = sdk_stream_text if stream else sdk_text
        assert await call(protocol, gw.url, key) == wire.TEXT


@pytest.mark.parametrize("upstream", list(WireFormat))
async def test_conversion_reads_odd_streams(
    fake: FakeUpstream, world: World, upstream: WireFormat
) -> None:
    """Another protocol's client: the relay's own SSE parser meets every framing oddity."""
    client = "anthropic" if upstream is WireFormat.OPENAI_CHAT else "openai"
    world.channels.append(channel(fake, 1, upstream))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    fake.always["c1"] = Fault(wire=wire.stream(upstream, "up-model"))
    async with serve_relay(world) as gw:
        assert await sdk_stream_text(client, gw.url, key) == wire.TEXT
        record = gw.sink.records[0]
        assert (record.usage.input, record.usage.output, record.usage.estimated) == (11, 7, False)
