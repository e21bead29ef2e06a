"""An attempt's time limit (relay/exchange.py `guarded`): its own expiry fails the attempt over
as a timeout, any other cancellation stays a cancellation, as asyncio.timeout keeps them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from octopus.errors import UpstreamTimeout
from octopus.relay.exchange import guarded
from octopus.relay.outbound import Target
from octopus.relay.ready import UpstreamFailure


async def _never() -> Any:
    await asyncio.sleep(3600)


ANSWER: Any = object()


async def _quick() -> Any:
    await asyncio.sleep(0)
    return ANSWER


TARGET: Target = None  # type: ignore[assignment]  # read only when the work fails unexpectedly


async def test_the_limit_expiring_is_an_upstream_timeout() -> None:
    with pytest.raises(UpstreamFailure) as caught:
        await guarded(_never(), 0.02, "first token", TARGET)
    assert isinstance(caught.value.error, UpstreamTimeout)
    assert "no first token within 0.02s" in caught.value.error.message
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0


async def test_an_answer_in_time_is_returned_and_the_limit_never_fires() -> None:
    assert await guarded(_quick(), 0.05, "response", TARGET) is ANSWER
    await asyncio.sleep(0.1)  # a deadline left armed would cancel this task here


async def test_a_cancel_from_outside_stays_a_cancel() -> None:
    task = asyncio.get_running_loop().create_task(guarded(_never(), 10.0, "response", TARGET))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
