"""One relay + one fake upstream shared by a whole test module, with a fresh channel per cell.

Every cell gets its own channel (tag) and group, so a 429 that rests a key or a 500 that cools
a member never leaks into the next cell while the gateway and SDK clients stay warm.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pytest

from octopus.protocols import WireFormat
from octopus.records.request import RequestRecord
from octopus.relay.service import RelayLimits
from tests.fakes.gateway import Gateway, World, channel, fake_upstream, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault, Received
from tests.matrix import turns as t
from tests.matrix.drivers_openai import ChatDriver, ResponsesDriver
from tests.matrix.drivers_other import AnthropicDriver, GeminiDriver

CLIENTS: dict[str, WireFormat] = {
    "chat": WireFormat.OPENAI_CHAT,
    "responses": WireFormat.OPENAI_RESPONSES,
    "anthropic": WireFormat.ANTHROPIC,
    "gemini": WireFormat.GEMINI,
}
UPSTREAM_MODEL = "up-model"


class Driver(Protocol):
    last: t.Answer

    async def run(self, model: str, turn: t.Turn) -> t.Answer: ...

    async def aclose(self) -> None: ...


@dataclass
class Cell:
    """One client × upstream × stream combination on its own channel."""

    bench: Bench
    client: str
    kind: WireFormat
    tag: str
    model: str

    @property
    def driver(self) -> Driver:
        return self.bench.drivers[self.client]

    @property
    def client_format(self) -> WireFormat:
        return CLIENTS[self.client]

    async def run(self, turn: t.Turn, fault: Fault | None = None) -> t.Answer:
        if fault is not None:
            self.bench.fake.script(self.tag, fault)
        return await self.driver.run(self.model, turn)

    def received(self) -> Received:
        calls = self.bench.fake.calls(self.tag)
        assert len(calls) == 1, [c.path for c in calls]
        return calls[0]

    def doc(self) -> dict[str, Any]:
        """The upstream request body, after checking it went to the routed model."""
        got = self.received()
        if self.kind is WireFormat.GEMINI:  # the model lives in the URL
            assert got.path.startswith(f"/v1beta/models/{UPSTREAM_MODEL}:"), got.path
        else:
            assert got.json()["model"] == UPSTREAM_MODEL
        return got.json()

    def record(self) -> RequestRecord:
        records = [r for r in self.bench.gateway.sink.records if r.channel_name == self.tag]
        assert len(records) == 1, records
        return records[0]


@dataclass
class Bench:
    fake: FakeUpstream
    world: World
    gateway: Gateway
    key: str
    drivers: dict[str, Driver] = field(default_factory=dict)
    count: int = 0

    def cell(self, client: str, kind: WireFormat) -> Cell:
        self.count += 1
        n = self.count
        chan = channel(self.fake, n, kind, tag=f"t{n}")
        self.world.channels.append(chan)
        self.world.groups.append(group(f"g{n}", [chan], gid=n, model=UPSTREAM_MODEL))
        self.world.publish()
        return Cell(self, client, kind, chan.name, f"g{n}")


@contextlib.asynccontextmanager
async def open_bench(limits: RelayLimits | None = None) -> AsyncIterator[Bench]:
    world = World()
    key = world.add_key()
    async with fake_upstream() as fake, serve_relay(world, limits=limits) as gw:
        drivers: dict[str, Driver] = {
            "chat": ChatDriver(gw.url, key),
            "responses": ResponsesDriver(gw.url, key),
            "anthropic": AnthropicDriver(gw.url, key),
            "gemini": GeminiDriver(gw.url, key),
        }
        try:
            yield Bench(fake, world, gw, key, drivers)
        finally:
            for driver in drivers.values():
                await driver.aclose()


Scenario = Callable[[Cell, bool], Awaitable[None]]


def run_cells(scenarios: dict[str, Scenario]) -> Callable[..., Any]:
    """The matrix test of a module: every client × upstream type × stream/JSON × scenario."""
    cells = [
        (client, kind, stream, scenario)
        for client in CLIENTS
        for kind in WireFormat
        for stream in (False, True)
        for scenario in scenarios
    ]

    @pytest.mark.parametrize(
        ("client", "kind", "stream", "scenario"),
        cells,
        ids=[f"{c}-{k.value}-{'stream' if s else 'json'}-{n}" for c, k, s, n in cells],
    )
    async def test_cell(
        bench: Bench, client: str, kind: WireFormat, stream: bool, scenario: str
    ) -> None:
        await scenarios[scenario](bench.cell(client, kind), stream)

    return test_cell
