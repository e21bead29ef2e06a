"""The proxied-channel transport loads aiohttp only when a request needs it."""

from __future__ import annotations

import subprocess
import sys

from octopus.protocols import WireFormat
from octopus.services.proxied import ProxiedOnDemand
from octopus.upstream.models import list_models
from tests.fakes.fixtures import fake
from tests.fakes.upstream import FakeUpstream

__all__ = ["fake"]

_IDLE_IMPORTS = """
import sys
import octopus.server
print(sorted(m for m in ("aiohttp", "aiohttp_socks", "alembic") if m in sys.modules))
"""


def test_a_gateway_imports_neither_aiohttp_nor_alembic_until_needed() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IDLE_IMPORTS], capture_output=True, text=True, check=True
    )
    assert done.stdout == "[]\n", done.stderr


async def test_the_first_request_loads_the_aiohttp_transport_and_it_answers(
    fake: FakeUpstream,
) -> None:
    transport = ProxiedOnDemand()
    assert transport.loaded is None
    try:
        fake.models["c1"] = ["m1"]
        kind = WireFormat.OPENAI_CHAT
        assert await list_models(transport, kind, fake.base("c1", kind), "k") == ["m1"]
        assert transport.loaded is not None
    finally:
        await transport.aclose()
