"""Edges of the attempt loop that ordinary traffic never reaches.

An upstream 200 whose stream carries no content, a client fault relayed without failover
(`rejected`), a member whose wire format has no codec (`skipped`), and a component failing in a
way nobody planned for (the relay's internal-error handler).
"""

from __future__ import annotations

import logging

import httpx
import pytest

from octopus.core.clock import SystemClock
from octopus.protocols import CODECS, WireFormat
from octopus.relay.limits import InProcessLimiter, Lease
from octopus.routing.catalog import ApiKey
from tests.fakes import payloads
from tests.fakes.gateway import World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault
from tests.relay.clients import sdk_stream_text, sdk_text

EMPTY_STREAMS = {
    "no bytes": [],
    "only a comment": [b": keep-alive\r\n\r\n"],
    "a role event cut short": [
        payloads.sse(payloads._chunk("up-model", {"role": "assistant", "content": ""}))
    ],
}


@pytest.mark.parametrize("writes", list(EMPTY_STREAMS.values()), ids=list(EMPTY_STREAMS))
async def test_a_200_stream_without_content_fails_over(
    fake: FakeUpstream, world: World, writes: list[bytes]
) -> None:
    world.channels += [channel(fake, 1), channel(fake, 2)]
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    fake.script("c1", Fault(wire=writes))
    async with serve_relay(world) as gw:
        assert await sdk_stream_text("openai", gw.url, key) == "hello from c2"
        first, second = gw.sink.records[0].attempts
        assert (first.outcome, first.error) == (
            "failed",
            "upstream stream ended before the first event",
        )
        assert second.outcome == "success"


async def test_a_client_fault_is_rejected_without_failover(
    fake: FakeUpstream, world: World
) -> None:
    world.channels += [channel(fake, 1), channel(fake, 2)]
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    fake.script("c1", Fault(status=400))
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        resp = await http.post(
            f"{gw.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "m", "messages": []},
        )
        assert resp.status_code == 400
        assert resp.content == payloads.error_body(WireFormat.OPENAI_CHAT, 400)  # as sent
        [attempt] = gw.sink.records[0].attempts
        assert (attempt.outcome, attempt.status) == ("rejected", 400)
        assert gw.sink.records[0].status == "failed"
    assert fake.tags() == ["c1"]


async def test_a_format_without_codec_is_skipped(
    fake: FakeUpstream, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A channel type this build cannot speak (say, one added by a newer version's backup)."""
    world.channels += [channel(fake, 1, WireFormat.GEMINI), channel(fake, 2)]
    world.groups.append(group("m", world.channels))
    world.groups.append(group("g", world.channels[:1], gid=2))
    key = world.add_key()
    monkeypatch.delitem(CODECS, WireFormat.GEMINI)
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        assert await sdk_text("openai", gw.url, key) == "hello from c2"
        first, second = gw.sink.records[0].attempts
        assert (first.outcome, first.error) == (
            "skipped",
            "the 'gemini' wire format is not supported yet",
        )
        assert second.outcome == "success"
        alone = await http.post(
            f"{gw.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "g", "messages": []},
        )
        assert alone.status_code == 501
        assert alone.json()["error"]["message"] == "the 'gemini' wire format is not supported yet"
    assert fake.tags() == ["c2"]


class _BrokenLimiter(InProcessLimiter):
    """A limiter whose backend fails in a way it does not translate (a bug, not a refusal)."""

    async def acquire(self, key: ApiKey, reserve: float = 0.0) -> Lease:
        raise RuntimeError("limiter backend exploded with secret sk-should-not-leak")


async def test_an_unexpected_error_is_a_500_in_the_callers_format(
    fake: FakeUpstream, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.channels.append(channel(fake, 1))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    limiter = _BrokenLimiter(SystemClock())
    with caplog.at_level(logging.ERROR, logger="octopus"):
        async with serve_relay(world, limiter=limiter) as gw, httpx.AsyncClient() as http:
            chat = await http.post(
                f"{gw.url}/v1/chat/completions",
                headers={"Authorization": f"Bearer {key}"},
                json={"model": "m", "messages": []},
            )
            claude = await http.post(
                f"{gw.url}/v1/messages",
                headers={"x-api-key": key},
                json={"model": "m", "max_tokens": 5, "messages": []},
            )
    assert chat.status_code == 500
    assert chat.json()["error"]["message"] == "internal error"
    assert claude.status_code == 500
    assert claude.json()["type"] == "error"
    assert claude.json()["error"]["message"] == "internal error"
    for resp in (chat, claude):
        assert b"Traceback" not in resp.content
        assert b"sk-should-not-leak" not in resp.content
    assert [r.message for r in caplog.records] == [
        "relay failed on openai request",
        "relay failed on anthropic request",
    ]
    assert fake.received == []
