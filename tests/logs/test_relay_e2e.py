"""The real relay (official SDK → relay → fake upstream) reporting into the BatchWriter on every
database: failover attempts, an interrupted stream billed for what was delivered, stats agree."""

from __future__ import annotations

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from octopus.protocols import WireFormat
from octopus.routing.catalog import RelayConfig
from octopus.services.fan_out import FanOutSink
from octopus.store import logs, stats
from octopus.store.database import Database
from octopus.store.writer import BatchWriter
from tests.fakes.fixtures import fake, world
from tests.fakes.gateway import World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault

__all__ = ["fake", "world"]
FAST = RelayConfig(first_token_timeout=0.5, response_timeout=0.5, cooldown=60.0)
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]


async def test_relay_records_land_in_logs_and_stats(
    fake: FakeUpstream, world: World, database: Database
) -> None:
    world.channels.extend(channel(fake, i) for i in (1, 2))
    world.groups.append(group("m", world.channels, config=FAST))
    key = world.add_key()
    fake.script("c1", Fault(status=503))
    fake.script("c2", Fault(), Fault(drop_after=3))
    writer = BatchWriter(database.sessions)
    async with serve_relay(world) as gw:
        gw.service.sink = FanOutSink([gw.sink, writer])
        client = openai.AsyncOpenAI(base_url=f"{gw.url}/v1", api_key=key, max_retries=0)
        reply = await client.chat.completions.create(model="m", messages=MESSAGES)
        assert reply.choices[0].message.content == "hello from c2"
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        with pytest.raises(openai.APIError):
            async for _ in stream:
                pass
        await client.close()
    assert await writer.drain()
    assert writer.written == 2

    async with database.sessions() as session:
        page = await logs.list_logs(session, logs.LogFilter(), 1, 10)
        failover = await logs.get_log(session, gw.sink.records[0].request_id)
        cut = await logs.get_log(session, gw.sink.records[1].request_id)
        total = await stats.total(session)
        per_channel = await stats.channel_stats(session)
    assert page["total"] == 2
    assert failover is not None
    assert cut is not None
    assert [(a["channel_name"], a["outcome"], a["status"]) for a in failover["attempts"]] == [
        ("c1", "failed", 503),
        ("c2", "success", 200),
    ]
    assert failover["status"] == "success"
    assert failover["channel_name"] == "c2"
    assert failover["model"] == "m"
    assert failover["upstream_model"] == "up-model"
    assert failover["client_format"] == WireFormat.OPENAI_CHAT.value
    assert failover["input_tokens"] > 0
    assert failover["output_tokens"] > 0

    assert cut["status"] == "failed"
    assert cut["stream"] is True
    assert cut["output_tokens"] > 0, "an interrupted stream is billed for what was delivered"
    assert cut["estimated"] == gw.sink.records[1].usage.estimated
    assert cut["error"] == gw.sink.records[1].error != ""

    assert (total["request_success"], total["request_failed"]) == (1, 1)
    assert total["input_token"] == failover["input_tokens"] + cut["input_tokens"]
    assert total["output_token"] == failover["output_tokens"] + cut["output_tokens"]
    assert per_channel[1]["attempt_failed"] == 1
    assert per_channel[2]["request_success"] == 1
