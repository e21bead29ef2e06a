"""A 10,000-event passthrough stream: byte-identical at the client, billed from its usage event,
and the memory the relay holds for it stays bounded (it does not grow with the events)."""

from __future__ import annotations

import hashlib
import json
import tracemalloc

import httpx

from octopus.protocols import WireFormat
from octopus.records.bodies import BodyMode, BodyPolicy
from octopus.relay.exchange import ExchangeLimits
from octopus.relay.service import RelayLimits
from tests.fakes.gateway import World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault

EVENTS = 10_000
TEXT = "tok " * 60  # ~380 wire bytes per event: 3.8 MB in all, far above the bound below
BOUND = 1024 * 1024  # the relay's capture for the log is 64 KiB; buffers are 64 KiB-ish
CAPTURED = BodyPolicy(BodyMode.ERRORS)  # the default: every stream keeps its first 64 KiB
# what the gateway side allocates (the fake upstream and the test client share the process)
RELAY_FILES = [
    tracemalloc.Filter(True, pattern)
    for pattern in ("*/octopus/*", "*/uvicorn/*", "*/aiohttp/client*", "*/aiohttp/streams.py")
]


def _held() -> int:
    """Bytes currently held by allocations made in the gateway's own code and libraries."""
    snapshot = tracemalloc.take_snapshot().filter_traces(RELAY_FILES)
    return sum(stat.size for stat in snapshot.statistics("filename"))


def _event(payload: dict[str, object]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def _writes() -> list[bytes]:
    """The stream cut every way a socket can: one event, several, and inside an event."""
    chunk = {"id": "c", "object": "chat.completion.chunk", "model": "up-model"}
    events = [_event({**chunk, "choices": [{"index": 0, "delta": {"role": "assistant"}}]})]
    events += [
        _event({**chunk, "choices": [{"index": 0, "delta": {"content": f"{i} {TEXT}"}}]})
        for i in range(EVENTS)
    ]
    usage = {"prompt_tokens": 5, "completion_tokens": 400_000, "total_tokens": 400_005}
    events += [_event({**chunk, "choices": [], "usage": usage}), b"data: [DONE]\n\n"]
    data, at = b"".join(events), 0
    writes: list[bytes] = []
    sizes = (len(events[1]), 3 * len(events[1]), len(events[1]) // 2, 7)
    while at < len(data):
        size = sizes[len(writes) % len(sizes)]
        writes.append(data[at : at + size])
        at += size
    return writes


async def test_ten_thousand_events_arrive_identical_in_bounded_memory(
    fake: FakeUpstream, world: World
) -> None:
    world.channels.append(channel(fake, 1, WireFormat.OPENAI_CHAT))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    writes = _writes()
    fake.always["c1"] = Fault(wire=writes, wire_gap=0.0)
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    headers = {"Authorization": f"Bearer {key}"}
    limits = RelayLimits(exchange=ExchangeLimits(connect_timeout=2.0), bodies=CAPTURED)
    async with serve_relay(world, limits=limits) as gw, httpx.AsyncClient(timeout=60) as http:
        url = gw.url + "/v1/chat/completions"
        fake.script("c1", Fault(wire=[b"".join(writes[:4]), b"data: [DONE]\n\n"], wire_gap=0.0))
        (await http.post(url, headers=headers, json=body)).raise_for_status()  # warm-up
        digest, size, held = hashlib.sha256(), 0, [0]
        tracemalloc.start()
        try:
            base = _held()
            async with http.stream("POST", url, headers=headers, json=body) as resp:
                async for piece in resp.aiter_raw():  # hashed, not kept
                    digest.update(piece)
                    size += len(piece)
                    if size // 262_144 > len(held):  # a sample every 256 KiB
                        held.append(_held() - base)
        finally:
            tracemalloc.stop()
        peak = max(held)
        assert resp.status_code == 200
        assert size > 3 * BOUND
        assert digest.digest() == hashlib.sha256(b"".join(writes)).digest()
        assert peak < BOUND, f"the relay held {peak / 1024:.0f} KiB for one stream"
        record = gw.sink.records[-1]
        assert record.status == "success"
        assert (record.usage.input, record.usage.output, record.usage.estimated) == (
            5,
            400_000,
            False,
        )
