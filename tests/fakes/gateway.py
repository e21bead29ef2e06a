"""The relay under test: RelayApp on a real uvicorn server (loopback, free port) with a Catalog
built in code, plus small builders for channels, groups and keys."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import string
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field, replace

import uvicorn

from octopus.core.clock import Clock, SystemClock
from octopus.pricing.cost import Price, StaticPriceBook
from octopus.protocols import WireFormat
from octopus.records.group_mode import GroupMode
from octopus.records.request import RequestRecord
from octopus.relay.exchange import ExchangeLimits
from octopus.relay.limits import InProcessLimiter, KeyLimiter
from octopus.relay.service import RelayLimits, RelayService
from octopus.routing.catalog import (
    ApiKey,
    Catalog,
    Channel,
    ChannelKey,
    Group,
    GroupMember,
    RelayConfig,
)
from octopus.routing.state import RoutingState
from octopus.upstream.aiohttp_transport import AiohttpTransport
from octopus.upstream.lean_transport import LeanTransport
from octopus.web.direct import DirectHttpProtocol
from octopus.web.native import native_protocol
from octopus.web.relay_routes import RelayApp
from tests.conftest import bound_port
from tests.fakes.doubles import ListChannelEvents, ListSink
from tests.fakes.upstream import FakeUpstream

ALNUM = string.ascii_letters + string.digits


def new_key() -> str:
    return "sk-octopus-" + "".join(secrets.choice(ALNUM) for _ in range(48))


def key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def channel(
    fake: FakeUpstream,
    cid: int,
    kind: WireFormat = WireFormat.OPENAI_CHAT,
    *,
    tag: str | None = None,
    keys: int = 1,
    **extra: object,
) -> Channel:
    tag = tag or f"c{cid}"
    chan = Channel(
        id=cid,
        name=tag,
        type=kind,
        base_url=fake.base(tag, kind),
        keys=tuple(ChannelKey(cid * 100 + i, f"upstream-secret-{tag}-{i}") for i in range(keys)),
        models=frozenset({"up-model"}),
    )
    return replace(chan, **extra)  # type: ignore[arg-type]


def group(
    name: str,
    channels: Iterable[Channel],
    mode: GroupMode = GroupMode.FAILOVER,
    *,
    gid: int = 1,
    config: RelayConfig | None = None,
    weights: Iterable[int] | None = None,
    model: str = "up-model",
    active: int = 0,
) -> Group:
    chans = list(channels)
    weight_list = list(weights) if weights is not None else [1] * len(chans)
    members = tuple(
        GroupMember(gid * 100 + i, c.id, model, priority=i, weight=w)
        for i, (c, w) in enumerate(zip(chans, weight_list, strict=True))
    )
    return Group(gid, name, mode, members, active, config or RelayConfig())


@dataclass
class World:
    """A catalog under construction; `catalog()` is what the relay reads (live edits apply)."""

    channels: list[Channel] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    keys: dict[str, ApiKey] = field(default_factory=dict)
    version: int = 0
    snapshot: Catalog = field(default_factory=Catalog)

    def add_key(self, raw: str | None = None, **fields: object) -> str:
        raw = raw or new_key()
        key = ApiKey(id=len(self.keys) + 1, name=f"key{len(self.keys) + 1}")
        self.keys[key_hash(raw)] = replace(key, **fields)  # type: ignore[arg-type]
        self.publish()
        return raw

    def publish(self) -> None:
        self.version += 1
        self.snapshot = Catalog(
            channels={c.id: c for c in self.channels},
            groups={g.name: g for g in self.groups},
            keys=dict(self.keys),
            version=self.version,
        )

    def catalog(self) -> Catalog:
        return self.snapshot


@dataclass
class Gateway:
    url: str
    service: RelayService
    sink: ListSink
    events: ListChannelEvents
    world: World

    @property
    def routing(self) -> RoutingState:
        return self.service.routing

    async def records(self, count: int = 1, timeout: float = 20.0) -> list[RequestRecord]:
        """The finished records once `count` are in (the sink hears after the client does)."""
        async with asyncio.timeout(timeout):
            while len(self.sink.records) < count:
                await asyncio.sleep(0.01)
        return list(self.sink.records)


@contextlib.asynccontextmanager
async def serve_relay(
    world: World,
    *,
    clock: Clock | None = None,
    limits: RelayLimits | None = None,
    prices: dict[str, Price] | None = None,
    limiter: KeyLimiter | None = None,
    asgi: bool = False,
) -> AsyncIterator[Gateway]:
    """`asgi`: RelayApp as the server's ASGI app (the path a request with Origin takes) instead
    of the native path `octopus start` serves relay requests on."""
    clock = clock or SystemClock()
    sink, events = ListSink(), ListChannelEvents()
    transport = LeanTransport(proxied=AiohttpTransport())
    service = RelayService(
        catalog=world.catalog,
        transport=transport,
        sink=sink,
        prices=StaticPriceBook(prices or {}),
        limiter=limiter or InProcessLimiter(clock),
        routing=RoutingState.in_memory(clock, seed=7),
        events=events,
        clock=clock,
        limits=limits or RelayLimits(exchange=ExchangeLimits(connect_timeout=2.0)),
    )
    relay = RelayApp(service)
    config = uvicorn.Config(
        relay,
        host="127.0.0.1",
        port=0,
        lifespan="off",
        log_config=None,
        access_log=False,
        loop="none",
        http=DirectHttpProtocol if asgi else native_protocol(lambda _: relay),
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.005)
        yield Gateway(f"http://127.0.0.1:{bound_port(server)}", service, sink, events, world)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        await transport.aclose()


@contextlib.asynccontextmanager
async def fake_upstream() -> AsyncIterator[FakeUpstream]:
    fake = await FakeUpstream().start()
    try:
        yield fake
    finally:
        await fake.stop()
