"""Converted streams through the gateway take runs of learned text deltas as one delta
(protocols/text_runs.py): in a stream written at once (read with its opening, before the
commit) and in paced reads alike,
and the client still gets every piece of text, in order."""

from __future__ import annotations

import json

import httpx
import pytest

from octopus.protocols import WireFormat
from octopus.protocols import events as ev
from octopus.protocols.sse import encode_events
from octopus.protocols.text_runs import TextRuns
from tests.fakes import payloads
from tests.fakes.gateway import World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault
from tests.protocols import golden
from tests.relay.test_fastsink import record_sinks

PIECES = [f"piece {i} " for i in range(80)]
FIXTURES = golden.ROOT / "openai-chat"
BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}


BURST = Fault(wire=[b"".join(payloads.stream_events(WireFormat.ANTHROPIC, "m", PIECES))])
PACED = Fault(pieces=PIECES, gap=0.002)


@pytest.mark.parametrize("fault", [BURST, PACED], ids=["one-write", "paced"])
async def test_an_anthropic_channel_streamed_to_an_openai_client_takes_runs(
    fake: FakeUpstream, world: World, monkeypatch: pytest.MonkeyPatch, fault: Fault
) -> None:
    taken: list[int] = []
    whole, take = TextRuns.whole, TextRuns.take

    def counted_whole(self: TextRuns, data: bytes) -> object:
        run = whole(self, data)
        taken.extend([1] if run is not None else [])
        return run

    def counted_take(self: TextRuns, data: bytes) -> object:
        run = take(self, data)
        taken.extend([1] if run is not None else [])
        return run

    monkeypatch.setattr(TextRuns, "whole", counted_whole)
    monkeypatch.setattr(TextRuns, "take", counted_take)
    sinks = record_sinks(monkeypatch, "converted_sink")  # runs it takes in C count too
    world.channels.append(channel(fake, 1, WireFormat.ANTHROPIC))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    fake.always["c1"] = fault
    async with serve_relay(world) as gw, httpx.AsyncClient(timeout=30) as http:
        headers = {"Authorization": f"Bearer {key}"}
        r = await http.post(gw.url + "/v1/chat/completions", headers=headers, json=BODY)
    assert r.status_code == 200
    chunks = [json.loads(e[6:]) for e in r.content.split(b"\n\n") if e.startswith(b"data: {")]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "".join(PIECES)
    taken += [1] * sum(getattr(sink, "taken", 0) for sink in sinks)
    assert taken  # the runs were taken, not only ever declined
    assert gw.sink.records[0].status == "success"


async def test_real_openai_chunks_with_their_stamps_reach_an_anthropic_client_by_runs(
    fake: FakeUpstream, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recorded OpenAI stream, one chunk per write: each ends with a different `obfuscation`
    stamp, which the learned envelope keeps as a hole, so its text deltas are taken by runs."""
    recorded = golden.load_stream(FIXTURES / "vercel-ai__openai-text.chunks.txt")[0]
    wire = [encode_events([sse]) for sse in recorded]
    expected = "".join(
        e.text
        for e in golden.decode_events(WireFormat.OPENAI_CHAT, recorded)
        if isinstance(e, ev.TextDelta)
    )
    taken: list[int] = []
    whole = TextRuns.whole

    def counted_whole(self: TextRuns, data: bytes) -> object:
        run = whole(self, data)
        taken.extend([1] if run is not None else [])
        return run

    monkeypatch.setattr(TextRuns, "whole", counted_whole)
    world.channels.append(channel(fake, 1, WireFormat.OPENAI_CHAT))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    fake.always["c1"] = Fault(wire=wire, wire_gap=0.001)
    body = {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    async with serve_relay(world) as gw, httpx.AsyncClient(timeout=30) as http:
        headers = {"x-api-key": key, "anthropic-version": "2023-06-01"}
        r = await http.post(gw.url + "/v1/messages", headers=headers, json={**body, "stream": True})
    assert r.status_code == 200
    datas = [line[6:] for line in r.text.split("\n") if line.startswith("data: ")]
    deltas = [json.loads(d) for d in datas if '"content_block_delta"' in d]
    assert "".join(d["delta"].get("text", "") for d in deltas) == expected
    assert len(taken) > len(recorded) // 2  # most chunks read by the learned envelope
    assert gw.sink.records[0].status == "success"
