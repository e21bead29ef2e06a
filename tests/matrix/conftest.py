"""The matrix modules share one relay and one fake upstream per module (see bench.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.matrix.bench import Bench, open_bench


@pytest.fixture(scope="module")
async def bench() -> AsyncIterator[Bench]:
    async with open_bench() as opened:
        yield opened
