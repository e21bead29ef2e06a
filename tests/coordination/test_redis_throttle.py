"""Login attempts counted once for the fleet through the real Redis on 127.0.0.1:6379."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator

import pytest

from octopus.coordination.link import RedisLink
from octopus.coordination.redis_throttle import RedisThrottles
from octopus.core.throttle import LocalThrottles
from tests.fakes.doubles import FakeClock

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def links() -> AsyncIterator[tuple[RedisLink, RedisLink]]:
    """Two processes' links under one fresh prefix."""
    prefix = f"octothr:{secrets.token_hex(4)}:"
    one, two = RedisLink(REDIS_URL, prefix), RedisLink(REDIS_URL, prefix)
    yield one, two
    await one.close()
    await two.close()


def _throttles(link: RedisLink) -> RedisThrottles:
    return RedisThrottles(link, LocalThrottles.default(FakeClock()))


async def test_two_processes_share_one_attempt_budget(links: tuple[RedisLink, RedisLink]) -> None:
    one, two = (_throttles(link) for link in links)
    # the address policy: three free failures, then 1 s, 2 s, ... (the fourth is counted)
    waits = [await throttle.admit("1.2.3.4", "admin") for throttle in (one, two, one, two)]
    assert waits == [0, 0, 0, 0]
    refused = await one.admit("1.2.3.4", "other")
    assert 0 < refused <= 1.0, "the fifth attempt, wherever it lands, waits"
    assert await two.admit("5.6.7.8", "someone") == 0, "another address is not held back"
    await two.succeeded("1.2.3.4", "admin")
    assert await one.admit("1.2.3.4", "admin") == 0, "a success clears the record everywhere"


async def test_the_username_budget_spans_addresses(links: tuple[RedisLink, RedisLink]) -> None:
    one, two = (_throttles(link) for link in links)
    for n in range(6):  # five free failures at one name, from six addresses, two processes
        assert await (one, two)[n % 2].admit(f"10.0.0.{n}", "admin") == 0
    assert await one.admit("10.0.0.99", "admin") > 0


async def test_without_redis_attempts_are_counted_per_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    away = RedisLink("redis://127.0.0.1:1/0", "octopus:")
    throttles = _throttles(away)
    with caplog.at_level(logging.WARNING, logger="octopus.auth"):
        waits = [await throttles.admit("1.2.3.4", "admin") for _ in range(5)]
    assert waits[:4] == [0, 0, 0, 0]
    assert waits[4] > 0, "never unlimited: the local throttle still counts"
    assert "counted per process" in caplog.text
    await away.close()
