"""Same-protocol passthrough: byte identity, model patch, usage, headers, overrides."""

from __future__ import annotations

import asyncio

import httpx
import openai
import pytest

from octopus.protocols import WireFormat
from octopus.records.bodies import BodyMode, BodyPolicy
from octopus.relay.service import RelayLimits
from tests.fakes.gateway import World, channel, group, serve_relay
from tests.fakes.proxies import Proxy
from tests.fakes.upstream import FakeUpstream, Fault
from tests.relay.clients import PROTOCOLS, sdk_stream_text, sdk_text


def _openai(url: str, key: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)


async def test_chat_non_stream_is_byte_identical(fake: FakeUpstream, world: World) -> None:
    world.channels.append(channel(fake, 1))
    world.groups.append(group("gpt", world.channels))
    key = world.add_key()
    async with serve_relay(world) as gw:
        async with httpx.AsyncClient() as http:
            resp = await http.post(
                f"{gw.url}/v1/chat/completions",
                headers={"Authorization": f"Bearer {key}"},
                json={"model": "gpt", "messages": [{"role": "user", "content": "hi"}]},
            )
        assert resp.status_code == 200
        assert resp.content == fake.sent["c1"]
        assert resp.headers["x-request-id"] == "req-c1"
        sent = fake.calls("c1")[0]
        assert sent.path == "/v1/chat/completions"
        assert sent.json()["model"] == "up-model"
        assert sent.headers["authorization"] == "Bearer upstream-secret-c1-0"
        assert sent.headers["accept-encoding"] == "identity"
        record = gw.sink.records[0]
        assert record.status == "success"
        assert (record.usage.input, record.usage.output) == (11, 7)
        assert not record.usage.estimated


async def test_chat_stream_is_byte_identical_via_sdk(fake: FakeUpstream, world: World) -> None:
    world.channels.append(channel(fake, 1))
    world.groups.append(group("gpt", world.channels))
    key = world.add_key()
    async with serve_relay(world) as gw:
        client = _openai(gw.url, key)
        stream = await client.chat.completions.create(
            model="gpt", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        await client.close()
        assert text == "hello from c1"
        sent = fake.calls("c1")[0].json()
        assert sent["stream_options"] == {"include_usage": True}
        async with (
            httpx.AsyncClient() as http,
            http.stream(
                "POST",
                f"{gw.url}/v1/chat/completions",
                headers={"Authorization": f"Bearer {key}"},
                json={"model": "gpt", "messages": [], "stream": True},
            ) as resp,
        ):
            raw = b"".join([chunk async for chunk in resp.aiter_raw()])
        assert raw == fake.sent["c1"]
        assert gw.sink.records[-1].usage.output == 7


CALLS: dict[WireFormat, tuple[str, dict[str, object]]] = {
    WireFormat.OPENAI_CHAT: (
        "/v1/chat/completions",
        {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
    ),
    WireFormat.OPENAI_RESPONSES: ("/v1/responses", {"model": "m", "input": "hi"}),
    WireFormat.ANTHROPIC: (
        "/v1/messages?beta=true",
        {"model": "m", "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}]},
    ),
    WireFormat.GEMINI: (
        "/v1beta/models/m:generateContent",
        {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
    ),
}


def _stream_call(fmt: WireFormat) -> tuple[str, dict[str, object]]:
    path, body = CALLS[fmt]
    if fmt is WireFormat.GEMINI:
        return "/v1beta/models/m:streamGenerateContent?alt=sse", body
    return path, {**body, "stream": True}


@pytest.mark.parametrize("fmt", list(WireFormat))
@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
async def test_every_protocol_passes_bytes_through(
    fake: FakeUpstream, world: World, fmt: WireFormat, stream: bool
) -> None:
    world.channels.append(channel(fake, 1, fmt))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    path, body = _stream_call(fmt) if stream else CALLS[fmt]
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        resp = await http.post(
            gw.url + path, headers={"x-api-key": key, "x-goog-api-key": key}, json=body
        )
        assert resp.status_code == 200
        assert resp.content == fake.sent["c1"]
        received = fake.calls("c1")[0]
        if fmt is WireFormat.GEMINI:
            assert received.body == httpx.Request("POST", "/", json=body).content  # untouched
            assert received.path.startswith("/v1beta/models/up-model:")
            assert received.headers["x-goog-api-key"] == "upstream-secret-c1-0"
        else:
            assert received.json()["model"] == "up-model"
        record = gw.sink.records[0]
        assert (record.usage.input, record.usage.output, record.usage.estimated) == (11, 7, False)
        assert record.upstream_format == fmt.value == record.client_format


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_sdks_get_answers_and_streams(
    fake: FakeUpstream, world: World, protocol: str
) -> None:
    fmt = {
        "openai": WireFormat.OPENAI_CHAT,
        "responses": WireFormat.OPENAI_RESPONSES,
        "anthropic": WireFormat.ANTHROPIC,
        "gemini": WireFormat.GEMINI,
    }[protocol]
    world.channels.append(channel(fake, 1, fmt))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    async with serve_relay(world) as gw:
        assert await sdk_text(protocol, gw.url, key) == "hello from c1"
        assert await sdk_stream_text(protocol, gw.url, key) == "hello from c1"


async def test_headers_auth_and_overrides(fake: FakeUpstream, world: World) -> None:
    custom = (("Authorization", "Bearer stolen"), ("x-api-key", "stolen"), ("X-Team", "blue"))
    overrides = {"temperature": b"0.25", "model": b'"ignored"', "metadata": b'{"a":1}'}
    world.channels.append(
        channel(fake, 1, WireFormat.ANTHROPIC, custom_headers=custom, param_override=overrides)
    )
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        resp = await http.post(
            f"{gw.url}/v1/messages?beta=true",
            headers={
                "x-api-key": key,
                "anthropic-beta": "claude-code-20250219",
                "anthropic-version": "2023-06-01",
                "x-forwarded-for": "10.0.0.1",
            },
            json={"model": "m", "max_tokens": 5, "temperature": 1, "messages": []},
        )
        assert resp.status_code == 200
    sent = fake.calls("c1")[0]
    assert sent.headers["x-api-key"] == "upstream-secret-c1-0"
    assert "authorization" not in sent.headers
    assert sent.headers["x-team"] == "blue"
    assert sent.headers["anthropic-beta"] == "claude-code-20250219"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert "x-forwarded-for" not in sent.headers
    assert sent.json() == {
        "model": "up-model",
        "max_tokens": 5,
        "temperature": 0.25,
        "messages": [],
        "metadata": {"a": 1},
    }
    assert key not in repr(fake.received)


async def test_passthrough_skips_reencoding_when_nothing_changes(
    fake: FakeUpstream, world: World
) -> None:
    world.channels.append(channel(fake, 1, WireFormat.ANTHROPIC))
    world.groups.append(group("up-model", world.channels))
    key = world.add_key()
    raw = b'{ "model" : "up-model", "max_tokens": 5,\n "messages": [] }'
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        resp = await http.post(
            f"{gw.url}/v1/messages",
            headers={"x-api-key": key, "content-type": "application/json"},
            content=raw,
        )
        assert resp.status_code == 200
    assert fake.calls("c1")[0].body == raw


async def test_bodies_are_kept_by_policy(fake: FakeUpstream, world: World) -> None:
    world.channels.append(channel(fake, 1, WireFormat.ANTHROPIC))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    limits = RelayLimits(bodies=BodyPolicy(BodyMode.ALL, max_bytes=200))
    body = {"model": "m", "max_tokens": 5, "messages": [], "stream": True}
    async with serve_relay(world, limits=limits) as gw, httpx.AsyncClient() as http:
        resp = await http.post(f"{gw.url}/v1/messages", headers={"x-api-key": key}, json=body)
        assert resp.status_code == 200
    record = gw.sink.records[0]
    assert record.request_body is not None
    assert b'"max_tokens"' in record.request_body
    assert record.response_body is not None
    assert record.response_body.startswith(b"event: message_start")
    assert record.response_body.endswith(b"...[truncated]")


async def test_client_disconnect_cancels_the_upstream(fake: FakeUpstream, world: World) -> None:
    world.channels.append(channel(fake, 1))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    fake.script("c1", Fault(gap=1.0))  # a stream of several seconds
    async with serve_relay(world) as gw:
        async with (
            httpx.AsyncClient() as http,
            http.stream(
                "POST",
                f"{gw.url}/v1/chat/completions",
                headers={"Authorization": f"Bearer {key}"},
                json={"model": "m", "messages": [], "stream": True},
            ) as resp,
        ):
            async for _ in resp.aiter_raw():
                break  # leave after the first bytes
        record = (await gw.records())[0]
        assert record.status == "canceled"
        async with asyncio.timeout(20):  # the relay hung up on the upstream...
            while "c1" not in fake.aborted:
                await asyncio.sleep(0.01)
        assert "c1" not in fake.sent  # ...before it could finish its stream


async def test_channel_proxy_is_used(fake: FakeUpstream, world: World) -> None:
    proxy = await Proxy().start("socks5")
    world.channels.append(channel(fake, 1, proxy_url=proxy.url))
    world.groups.append(group("m", world.channels))
    key = world.add_key()
    try:
        async with serve_relay(world) as gw:
            assert await sdk_text("openai", gw.url, key) == "hello from c1"
        assert proxy.connections == 1
    finally:
        await proxy.stop()
