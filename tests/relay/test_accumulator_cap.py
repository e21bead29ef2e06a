"""The response accumulator is capped: a stream folded into one answer (a non-stream client
served by a streaming upstream, or a converted JSON body) stops that attempt at
`max_response_size` with a protocol-correct error, and the next member is tried."""

from __future__ import annotations

import httpx

from octopus.relay.exchange import ExchangeLimits
from octopus.relay.service import RelayLimits
from tests.fakes.fixtures import fake, world
from tests.fakes.gateway import World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault

__all__ = ["fake", "world"]
CAP = 256 * 1024


async def test_an_oversized_folded_stream_ends_the_attempt_cleanly(
    fake: FakeUpstream, world: World
) -> None:
    world.channels += [channel(fake, 1), channel(fake, 2)]
    world.groups.append(group("m", world.channels))
    world.groups.append(group("solo", [world.channels[0]], gid=2))
    key = world.add_key()
    fake.script("c1", Fault(force_sse=True, huge_bytes=4 * CAP))  # streams though asked not to
    limits = RelayLimits(exchange=ExchangeLimits(max_response_size=CAP))
    headers = {"Authorization": f"Bearer {key}"}
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    async with serve_relay(world, limits=limits) as gw, httpx.AsyncClient(timeout=20) as http:
        ok = await http.post(f"{gw.url}/v1/chat/completions", headers=headers, json=body)
        assert ok.status_code == 200
        assert fake.tags() == ["c1", "c2"]
        assert f"over {CAP} bytes" in gw.sink.records[0].attempts[0].error
        fake.script("c1", Fault(force_sse=True, huge_bytes=4 * CAP))
        claude = await http.post(
            f"{gw.url}/v1/messages",
            headers={"x-api-key": key},
            json={"model": "solo", "max_tokens": 5, "messages": body["messages"]},
        )
    assert claude.status_code == 502
    assert claude.json()["type"] == "error"  # the caller's own protocol
    assert f"over {CAP} bytes" in claude.json()["error"]["message"]
