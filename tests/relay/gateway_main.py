"""A relay in its own process (for RSS measurements): `python -m tests.relay.gateway_main URL KEY
[direct|asgi]`.

Routes group "m" to one OpenAI channel at URL and prints `ready <port>` once listening. `direct`
(the default) serves with `octopus start`'s protocol (direct body writes); `asgi` with plain
httptools, where every body piece goes through ASGI `send`.
"""

from __future__ import annotations

import asyncio
import sys

import uvicorn

from octopus.core.clock import SystemClock
from octopus.pricing.cost import StaticPriceBook
from octopus.protocols import WireFormat
from octopus.records.group_mode import GroupMode
from octopus.relay.channel_events import NullChannelEvents
from octopus.relay.limits import InProcessLimiter
from octopus.relay.service import RelayService
from octopus.relay.sink import NullSink
from octopus.routing.catalog import ApiKey, Catalog, Channel, ChannelKey, Group, GroupMember
from octopus.routing.state import RoutingState
from octopus.upstream.aiohttp_transport import AiohttpTransport
from octopus.upstream.lean_transport import LeanTransport
from octopus.web.direct import DirectHttpProtocol
from octopus.web.relay_routes import RelayApp
from tests.conftest import bound_port
from tests.fakes.gateway import key_hash


async def main(base_url: str, key: str, writes: str = "direct") -> None:
    chan = Channel(
        1, "c1", WireFormat.OPENAI_CHAT, base_url, (ChannelKey(1, "secret"),), frozenset({"up"})
    )
    catalog = Catalog(
        channels={1: chan},
        groups={"m": Group(1, "m", GroupMode.FAILOVER, (GroupMember(1, 1, "up"),))},
        keys={key_hash(key): ApiKey(1, "k")},
    )
    clock = SystemClock()
    transport = LeanTransport(proxied=AiohttpTransport())
    service = RelayService(
        catalog=lambda: catalog,
        transport=transport,
        sink=NullSink(),
        prices=StaticPriceBook(),
        limiter=InProcessLimiter(clock),
        routing=RoutingState.in_memory(clock),
        events=NullChannelEvents(),
        clock=clock,
    )
    config = uvicorn.Config(
        RelayApp(service),
        host="127.0.0.1",
        port=0,
        log_config=None,
        access_log=False,
        lifespan="off",
        http=DirectHttpProtocol if writes == "direct" else "httptools",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    sys.stdout.write(f"ready {bound_port(server)}\n")
    sys.stdout.flush()
    await task
    await transport.aclose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
