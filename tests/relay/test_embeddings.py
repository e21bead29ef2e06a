"""Embeddings through the relay over raw HTTP: byte-identical passthrough, the single-input
Gemini endpoint, model renaming, members that cannot embed, key limits and prices."""

from __future__ import annotations

import json
from dataclasses import replace

import httpx
import pytest

from octopus.pricing.cost import Price
from octopus.protocols import WireFormat
from tests.fakes import embeddings as fake_emb
from tests.fakes.gateway import World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault

OPENAI_BODY = b'{"model": "up-model",  "input": ["one", "three"], "encoding_format": "float"}'
GEMINI_ONE = b'{"content": {"parts": [{"text": "hello"}]},  "outputDimensionality": 3}'


def _world(fake: FakeUpstream, world: World, *kinds: WireFormat, name: str = "up-model") -> str:
    world.channels.extend(channel(fake, i, kind) for i, kind in enumerate(kinds, start=1))
    world.groups.append(group(name, world.channels))
    return world.add_key()


async def _openai(http: httpx.AsyncClient, url: str, key: str, body: bytes) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    return await http.post(f"{url}/v1/embeddings", headers=headers, content=body)


async def _gemini(
    http: httpx.AsyncClient, url: str, key: str, action: str, body: bytes, model: str = "up-model"
) -> httpx.Response:
    return await http.post(
        f"{url}/v1beta/models/{model}:{action}", headers={"x-goog-api-key": key}, content=body
    )


async def test_openai_passthrough_is_byte_identical(fake: FakeUpstream, world: World) -> None:
    key = _world(fake, world, WireFormat.OPENAI_CHAT)
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        resp = await _openai(http, gw.url, key, OPENAI_BODY)
    assert resp.status_code == 200
    assert fake.received[0].path == "/v1/embeddings"
    assert fake.received[0].body == OPENAI_BODY
    assert resp.content == fake.sent["c1"]
    assert gw.sink.records[0].usage.input == fake_emb.tokens_for("one") + fake_emb.tokens_for(
        "three"
    )


async def test_gemini_passthrough_is_byte_identical(fake: FakeUpstream, world: World) -> None:
    key = _world(fake, world, WireFormat.GEMINI)
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        resp = await _gemini(http, gw.url, key, "embedContent", GEMINI_ONE)
    assert resp.status_code == 200
    assert fake.received[0].path == "/v1beta/models/up-model:embedContent"
    assert fake.received[0].body == GEMINI_ONE
    assert resp.content == fake.sent["c1"]
    assert resp.json()["embedding"]["values"] == fake_emb.vector_for("hello", 3)


async def test_gemini_single_embed_reaches_an_openai_channel(
    fake: FakeUpstream, world: World
) -> None:
    key = _world(fake, world, WireFormat.OPENAI_RESPONSES, name="emb")
    body = b'{"content": {"parts": [{"text": "hello"}]}, "outputDimensionality": 3, '
    body += b'"taskType": "RETRIEVAL_QUERY"}'
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        resp = await _gemini(http, gw.url, key, "embedContent", body, model="emb")
    assert resp.status_code == 200, resp.text
    sent = fake.received[0].json()
    assert sent == {
        "model": "up-model",
        "input": "hello",
        "encoding_format": "float",
        "dimensions": 3,
    }
    answer = resp.json()
    assert answer["embedding"]["values"] == fake_emb.vector_for("hello", 3)
    tokens = fake_emb.tokens_for("hello")
    assert answer["usageMetadata"] == {"promptTokenCount": tokens, "totalTokenCount": tokens}
    assert gw.sink.records[0].losses == ["embeddings.task_type: the target API has no such field"]


async def test_gemini_batch_is_renamed_for_the_member_model(
    fake: FakeUpstream, world: World
) -> None:
    key = _world(fake, world, WireFormat.GEMINI, name="emb")
    requests = [{"model": "models/emb", "content": {"parts": [{"text": t}]}} for t in ("a", "bb")]
    body = json.dumps({"requests": requests}).encode()
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        resp = await _gemini(http, gw.url, key, "batchEmbedContents", body, model="emb")
    assert resp.status_code == 200
    assert fake.received[0].path == "/v1beta/models/up-model:batchEmbedContents"
    got = json.loads(fake.received[0].body)["requests"]
    assert [r["model"] for r in got] == ["models/up-model"] * 2
    assert [e["values"] for e in resp.json()["embeddings"]] == [
        fake_emb.vector_for("a"),
        fake_emb.vector_for("bb"),
    ]


async def test_a_member_that_cannot_embed_is_skipped(fake: FakeUpstream, world: World) -> None:
    key = _world(fake, world, WireFormat.ANTHROPIC, WireFormat.OPENAI_CHAT)
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        resp = await _openai(http, gw.url, key, OPENAI_BODY)
    assert resp.status_code == 200
    assert fake.tags() == ["c2"]
    attempts = gw.sink.records[0].attempts
    assert [a.outcome for a in attempts] == ["skipped", "success"]
    assert "has no embeddings API" in attempts[0].error


async def test_token_arrays_go_only_where_they_can(fake: FakeUpstream, world: World) -> None:
    key = _world(fake, world, WireFormat.GEMINI, WireFormat.OPENAI_CHAT)
    world.groups.append(group("gemini-only", world.channels[:1], gid=2))
    world.publish()
    body = b'{"model": "up-model", "input": [[1, 2, 3], [4, 5]]}'
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        served = await _openai(http, gw.url, key, body)
        refused = await _openai(http, gw.url, key, body.replace(b"up-model", b"gemini-only"))
    assert served.status_code == 200
    assert fake.tags() == ["c2"]  # the Gemini member was skipped
    assert refused.status_code == 400
    assert "cannot embed token arrays" in refused.json()["error"]["message"]


async def test_bad_input_gets_a_400_in_the_callers_format(fake: FakeUpstream, world: World) -> None:
    key = _world(fake, world, WireFormat.GEMINI, WireFormat.OPENAI_CHAT)
    mixed = [
        {"content": {"parts": [{"text": "a"}]}, "outputDimensionality": 3},
        {"content": {"parts": [{"text": "b"}]}, "outputDimensionality": 5},
    ]
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        empty = await _openai(http, gw.url, key, b'{"model": "up-model", "input": []}')
        # an OpenAI member takes one dimensionality per call: the mixed batch cannot go there
        world.groups[0] = replace(world.groups[0], members=world.groups[0].members[1:])
        world.publish()
        dims = await _gemini(
            http, gw.url, key, "batchEmbedContents", json.dumps({"requests": mixed}).encode()
        )
    assert empty.status_code == 400
    assert "input must be" in empty.json()["error"]["message"]
    assert dims.status_code == 400
    assert dims.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "one outputDimensionality" in dims.json()["error"]["message"]
    assert fake.received == []


async def test_embeddings_are_priced_and_count_against_key_limits(
    fake: FakeUpstream, world: World
) -> None:
    world.channels.append(channel(fake, 1, WireFormat.GEMINI))
    world.groups.append(group("emb", world.channels))
    key = world.add_key(max_rpm=1)
    body = b'{"model": "emb", "input": "a few words here"}'
    prices = {"up-model": Price(input=2.0, output=50.0)}
    async with serve_relay(world, prices=prices) as gw, httpx.AsyncClient() as http:
        first = await _openai(http, gw.url, key, body)
        second = await _openai(http, gw.url, key, body)
    assert first.status_code == 200
    assert second.status_code == 429  # the key's requests per minute
    assert second.headers["retry-after"]
    record = gw.sink.records[0]
    tokens = fake_emb.tokens_for("a few words here")
    assert (record.usage.input, record.usage.output) == (tokens, 0)
    assert record.cost.input_cost == pytest.approx(tokens * 2.0 / 1_000_000)
    assert record.cost.output_cost == 0
    assert record.upstream_model == "up-model"


async def test_upstream_client_fault_is_relayed_as_it_came(
    fake: FakeUpstream, world: World
) -> None:
    key = _world(fake, world, WireFormat.OPENAI_CHAT)
    error = b'{"error": {"message": "Invalid input", "type": "invalid_request_error"}}'
    fake.script("c1", Fault(status=400, body=error))
    async with serve_relay(world) as gw, httpx.AsyncClient() as http:
        resp = await _openai(http, gw.url, key, OPENAI_BODY)
    assert resp.status_code == 400
    assert resp.content == error
    assert gw.sink.records[0].status == "failed"
