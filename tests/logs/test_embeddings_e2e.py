"""Embeddings through the real relay into the BatchWriter on every database: the log entry
names the endpoint, the tokens and the price land in the log and in the stats."""

from __future__ import annotations

import httpx
import openai
import pytest
from google import genai
from google.genai import types

from octopus.pricing.cost import Price
from octopus.protocols import WireFormat
from octopus.services.fan_out import FanOutSink
from octopus.store import logs, stats
from octopus.store.database import Database
from octopus.store.writer import BatchWriter
from tests.fakes import embeddings as fake_emb
from tests.fakes.fixtures import fake, world
from tests.fakes.gateway import World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream

__all__ = ["fake", "world"]
TEXTS = ["first text", "second one here"]
PRICE = Price(input=0.13, output=0.0)


async def test_embeddings_land_in_logs_and_stats(
    fake: FakeUpstream, world: World, database: Database
) -> None:
    world.channels.extend([channel(fake, 1, WireFormat.GEMINI), channel(fake, 2)])
    world.groups.append(group("emb-gemini", world.channels[:1], gid=1))
    world.groups.append(group("emb-openai", world.channels[1:], gid=2))
    key = world.add_key()
    writer = BatchWriter(database.sessions)
    async with (
        serve_relay(world, prices={"up-model": PRICE}) as gw,
        httpx.AsyncClient(timeout=20) as http,
    ):
        gw.service.sink = FanOutSink([gw.sink, writer])
        client = openai.AsyncOpenAI(base_url=f"{gw.url}/v1", api_key=key, max_retries=0)
        answer = await client.embeddings.create(model="emb-gemini", input=TEXTS)
        assert [d.embedding for d in answer.data] == [fake_emb.vector_for(t) for t in TEXTS]
        await client.close()
        options = types.HttpOptions(base_url=gw.url, httpx_async_client=http)
        gemini = genai.Client(api_key=key, http_options=options).aio
        reply = await gemini.models.embed_content(model="emb-openai", contents=TEXTS)
        assert [e.values for e in reply.embeddings or []] == [fake_emb.vector_for(t) for t in TEXTS]
    assert await writer.drain()
    assert writer.written == 2

    tokens = sum(fake_emb.tokens_for(t) for t in TEXTS)
    async with database.sessions() as session:
        entries = [await logs.get_log(session, r.request_id) for r in gw.sink.records]
        total = await stats.total(session)
    formats = []
    for entry in entries:
        assert entry is not None
        assert entry["status"] == "success"
        assert (entry["input_tokens"], entry["output_tokens"]) == (tokens, 0)
        assert entry["cost"] == pytest.approx(tokens * PRICE.input / 1_000_000)
        formats.append((entry["client_format"], entry["upstream_format"]))
    assert formats == [("openai/embeddings", "gemini"), ("gemini/embeddings", "openai")]
    assert total["request_success"] == 2
    assert total["input_token"] == 2 * tokens
    assert total["output_token"] == 0
    assert total["input_cost"] == pytest.approx(2 * tokens * PRICE.input / 1_000_000)
    assert total["output_cost"] == 0
