"""Pytest fixtures for relay tests: a running fake upstream and an empty World to route over.

Import them into a test module or conftest (`from tests.fakes.fixtures import fake, world`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.gateway import World, fake_upstream
from tests.fakes.upstream import FakeUpstream


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with fake_upstream() as upstream:
        yield upstream


@pytest.fixture
def world() -> World:
    return World()
