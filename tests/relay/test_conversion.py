"""Cross-protocol requests: every client protocol against every other channel type, via SDKs."""

from __future__ import annotations

import httpx
import pytest

from octopus.protocols import WireFormat
from octopus.relay.exchange import ExchangeLimits
from octopus.relay.service import RelayLimits
from tests.fakes import payloads
from tests.fakes.gateway import World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault
from tests.relay.clients import PROTOCOLS, sdk_stream_pieces, sdk_stream_text, sdk_text

FORMATS = {
    "openai": WireFormat.OPENAI_CHAT,
    "responses": WireFormat.OPENAI_RESPONSES,
    "anthropic": WireFormat.ANTHROPIC,
    "gemini": WireFormat.GEMINI,
}
PAIRS = [(p, k) for p in PROTOCOLS for k in WireFormat if FORMATS[p] is not k]


@pytest.mark.parametrize(("protocol", "kind"), PAIRS, ids=[f"{p}->{k.value}" for p, k in PAIRS])
async def test_converted_answers_and_streams(
    fake: FakeUpstream, world: World, protocol: str, kind: WireFormat
) -> None:
    world.channels.append(channel(fake, 1, kind))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    async with serve_relay(world) as gw:
        assert await sdk_text(protocol, gw.url, key) == "hello from c1"
        assert await sdk_stream_text(protocol, gw.url, key) == "hello from c1"
        upstream_paths = [r.path for r in fake.received]
        records = gw.sink.records
    assert all(r.status == "success" for r in records)
    assert records[0].usage.input == 11
    assert records[1].usage.output == 7
    if kind is WireFormat.GEMINI:
        assert upstream_paths == [
            "/v1beta/models/up-model:generateContent",
            "/v1beta/models/up-model:streamGenerateContent",
        ]
    else:
        assert fake.received[0].json()["model"] == "up-model"


async def test_keepalive_while_the_upstream_is_silent(fake: FakeUpstream, world: World) -> None:
    world.channels.append(channel(fake, 1, WireFormat.ANTHROPIC))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    fake.script("c1", Fault(stall_after=4, stall=1.0))  # silent for ten intervals after "hello"
    limits = RelayLimits(exchange=ExchangeLimits(keepalive_interval=0.1))
    async with serve_relay(world, limits=limits) as gw, httpx.AsyncClient(timeout=20) as http:
        resp = await http.post(
            f"{gw.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True},
        )
    assert resp.status_code == 200
    before, _, after = resp.content.partition(b": keep-alive\n\n")
    assert after, "no keep-alive while the upstream was silent"
    assert before.endswith(b"\n\n")  # between two events, never inside one
    assert b"hello" in before  # the first piece came before the silence...
    assert b"from" in after  # ...the rest after it
    assert resp.content.rstrip().endswith(b"data: [DONE]")


async def test_non_stream_client_gets_the_accumulated_stream(
    fake: FakeUpstream, world: World
) -> None:
    world.channels.append(channel(fake, 1, WireFormat.ANTHROPIC))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    fake.script("c1", Fault(force_sse=True), Fault(force_json=True))
    async with serve_relay(world) as gw:
        assert await sdk_text("openai", gw.url, key) == "hello from c1"
        assert await sdk_stream_text("openai", gw.url, key) == "hello from c1"
        assert [r.status for r in gw.sink.records] == ["success", "success"]


async def test_conversion_mid_stream_failure_is_in_band(fake: FakeUpstream, world: World) -> None:
    world.channels.append(channel(fake, 1, WireFormat.ANTHROPIC))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    fake.script("c1", Fault(drop_after=5))
    async with serve_relay(world) as gw, httpx.AsyncClient(timeout=20) as http:
        resp = await http.post(
            f"{gw.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "m", "messages": [], "stream": True},
        )
        assert resp.status_code == 200
        assert b'"error"' in resp.content
        assert b"connection lost" in resp.content
        assert gw.sink.records[0].status == "failed"


async def test_unconvertible_request_is_a_client_error(fake: FakeUpstream, world: World) -> None:
    world.channels.append(channel(fake, 1, WireFormat.ANTHROPIC))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        resp = await http.post(
            f"{gw.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "m", "messages": "not a list"},
        )
        assert resp.status_code == 400
        assert resp.json()["error"]["type"] == "invalid_request_error"
        assert gw.sink.records[0].attempts[0].outcome == "rejected"
    assert fake.received == []


BURST_PAIRS = [
    ("anthropic", WireFormat.OPENAI_CHAT),
    ("openai", WireFormat.ANTHROPIC),
    ("openai", WireFormat.GEMINI),
    ("responses", WireFormat.ANTHROPIC),
    ("gemini", WireFormat.OPENAI_RESPONSES),
]


@pytest.mark.parametrize(
    ("protocol", "kind"), BURST_PAIRS, ids=[f"{p}->{k.value}" for p, k in BURST_PAIRS]
)
async def test_events_read_together_leave_together(
    fake: FakeUpstream, world: World, protocol: str, kind: WireFormat
) -> None:
    """An upstream that writes a whole stream at once: its text deltas are joined into fewer
    client events, the text and the usage exactly as the upstream sent them."""
    pieces = [f"piece {i} " for i in range(60)]
    events = list(payloads.stream_events(kind, "up-model", pieces))
    fake.script("c1", Fault(wire=[b"".join(events)]))
    world.channels.append(channel(fake, 1, kind))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    async with serve_relay(world) as gw:
        got = await sdk_stream_pieces(protocol, gw.url, key)
        records = gw.sink.records
    assert "".join(got) == "".join(pieces)
    assert len(got) < len(pieces) // 2  # a read holds many events: each run went out as one
    assert records[0].status == "success"
    assert (records[0].usage.input, records[0].usage.output) == (11, 7)
    assert not records[0].usage.estimated
