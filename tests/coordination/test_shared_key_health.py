"""Key blocks and their clearing reach every instance through the real Redis on 127.0.0.1:6379."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable

import pytest

from octopus.coordination.link import RedisLink
from octopus.coordination.routing import SharedKeyHealth
from octopus.core.clock import SystemClock

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def pair() -> AsyncIterator[tuple[SharedKeyHealth, SharedKeyHealth]]:
    prefix = f"octotest:{secrets.token_hex(4)}"
    links = [RedisLink(REDIS_URL, prefix), RedisLink(REDIS_URL, prefix)]
    healths = [SharedKeyHealth(SystemClock(), link) for link in links]
    for link in links:
        await link.start()
        assert link.subscribed.is_set()
    try:
        yield healths[0], healths[1]
    finally:
        for link in links:
            await link.close()


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):  # a wide bound: pub/sub is quick, the machine is not
        while not condition():
            await asyncio.sleep(0.02)


async def test_an_admin_clear_unblocks_the_key_on_every_instance(
    pair: tuple[SharedKeyHealth, SharedKeyHealth],
) -> None:
    admin, other = pair
    admin.disable(3, 30, "upstream said 401")
    admin.rest(3, 31, 300.0, "429")
    await _until(lambda: other.disabled_reason(3, 30) is not None)
    await _until(lambda: other.resting(3, 31) is not None)
    admin.clear(3)  # the admin re-enabled the channel
    await _until(lambda: other.disabled_reason(3, 30) is None)
    await _until(lambda: other.resting(3, 31) is None)


async def test_a_passed_key_check_ends_the_rest_on_every_instance(
    pair: tuple[SharedKeyHealth, SharedKeyHealth],
) -> None:
    checker, other = pair
    checker.rest(4, 40, 300.0, "429")
    await _until(lambda: other.resting(4, 40) is not None)
    checker.clear_rest(4, 40)
    await _until(lambda: other.resting(4, 40) is None)
