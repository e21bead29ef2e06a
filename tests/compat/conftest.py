"""The real `octopus start` process beside a fake upstream, for replaying third-party clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.upstream import FakeUpstream
from tests.harness import Process, octopus_process


@dataclass
class Running:
    process: Process
    fake: FakeUpstream

    @property
    def url(self) -> str:
        return self.process.url


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    fake = await FakeUpstream().start()
    try:
        with octopus_process(tmp_path) as process:
            yield Running(process, fake)
    finally:
        await fake.stop()


def envelope_data(response: httpx.Response) -> Any:
    """What both clients do first: an envelope with code 200 (HTTP 200), then its `data`."""
    assert response.status_code == 200, response.text
    doc = response.json()
    assert isinstance(doc, dict), doc
    assert doc.get("code") == 200, doc
    return doc.get("data")
