"""Attempts cut before their answer are billed for the prompt they sent, at their own model's
price; an attempt that never connected sent nothing and is not billed."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from octopus.pricing.cost import Price
from octopus.relay.exchange import ExchangeLimits
from octopus.relay.service import RelayLimits
from octopus.routing.catalog import Channel, RelayConfig
from tests.fakes.gateway import World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault
from tests.relay.clients import sdk_stream_text, sdk_text

PRICES = {"model-a": Price(10.0, 0.0), "model-b": Price(0.0, 1.0)}  # USD per million tokens


def _a_then_b(world: World, first: Channel, second: Channel, config: RelayConfig) -> str:
    world.channels += [first, second]
    built = group("m", world.channels, config=config)
    members = tuple(
        replace(m, model_name=model) for m, model in zip(built.members, PRICES, strict=True)
    )
    world.groups.append(replace(built, members=members))
    return world.add_key()


async def test_a_timed_out_attempt_is_billed_at_its_own_model(
    fake: FakeUpstream, world: World
) -> None:
    config = RelayConfig(first_token_timeout=0.5, response_timeout=30.0, cooldown=60.0)
    key = _a_then_b(world, channel(fake, 1), channel(fake, 2), config)
    fake.script("c1", Fault(event_delay=3.0))  # model-a got the prompt, then stayed silent
    async with serve_relay(world, prices=PRICES) as gw:
        assert await sdk_stream_text("openai", gw.url, key) == "hello from c2"
        record = gw.sink.records[0]
    assert [a.timed_out for a in record.attempts] == [True, False]
    assert record.upstream_model == "model-b"
    reported = re.findall(rb'"prompt_tokens":\s*(\d+)', fake.sent["c2"])  # model-b's answer
    abandoned = record.usage.input - int(reported[-1])  # the estimate for model-a's prompt
    assert abandoned > 0
    assert record.usage.estimated
    # model-b bills no input: every input dollar is model-a's, at model-a's price
    assert record.cost.input_cost == pytest.approx(abandoned * 10.0 / 1e6)
    assert record.cost.output_cost == pytest.approx(record.usage.output * 1.0 / 1e6)


async def test_a_connect_timeout_is_not_billed(
    fake: FakeUpstream, world: World, unanswered_port: int
) -> None:
    silent = channel(fake, 1, base_url=f"http://127.0.0.1:{unanswered_port}")
    key = _a_then_b(world, silent, channel(fake, 2), RelayConfig(cooldown=60.0))
    limits = RelayLimits(exchange=ExchangeLimits(connect_timeout=0.5))
    async with serve_relay(world, prices=PRICES, limits=limits) as gw:
        assert await sdk_text("openai", gw.url, key) == "hello from c2"
        record = gw.sink.records[0]
    first, second = record.attempts
    assert (first.outcome, first.timed_out) == ("failed", False)
    assert "connection timed out" in first.error
    assert second.outcome == "success"
    assert not record.usage.estimated
    assert record.cost.input_cost == 0.0
