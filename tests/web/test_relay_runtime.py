"""The admin runtime SSE (member health per group) and its reset route."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from tests.conftest import bound_port
from tests.fakes.fixtures import fake, world
from tests.fakes.gateway import World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault

from octopus.web.admin import runtime

__all__ = ["fake", "world"]


async def _events(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, object]]:
    name = ""
    async for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name == "runtime":
            yield json.loads(line[6:])


async def test_runtime_stream_and_reset(fake: FakeUpstream, world: World) -> None:
    world.channels.extend([channel(fake, 1), channel(fake, 2)])
    world.groups.append(group("m", world.channels))
    world.groups.append(group("idle", world.channels, gid=2))
    key = world.add_key()
    fake.script("c1", Fault(status=500))
    async with serve_relay(world) as gw:
        stopping = asyncio.Event()
        admin = Starlette(routes=runtime.routes(gw.service, stopping))
        server = uvicorn.Server(uvicorn.Config(admin, port=0, log_config=None, lifespan="off"))
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        base = f"http://127.0.0.1:{bound_port(server)}"
        async with (
            httpx.AsyncClient(timeout=10) as http,
            http.stream("GET", f"{base}/api/v1/group/runtime/stream") as stream,
        ):
            assert stream.headers["content-type"].startswith("text/event-stream")
            events = _events(stream.aiter_lines())
            first, second = await anext(events), await anext(events)
            assert [first["group_id"], second["group_id"]] == [1, 2]
            assert first["cooldowns"] == {}
            relay = await http.post(
                f"{gw.url}/v1/chat/completions",
                headers={"Authorization": f"Bearer {key}"},
                json={"model": "m", "messages": []},
            )
            assert relay.status_code == 200
            update = await anext(events)
            while update["current_item_id"] != 101:
                update = await anext(events)
            assert update["cooldowns"] == {
                "100": pytest.approx(time.time() * 1000 + 60_000, abs=5000)
            }
            reset = await http.post(f"{base}/api/v1/group/runtime/reset/1")
            assert reset.json()["data"]["cooldowns"] == {}
            after = await anext(events)
            assert after["cooldowns"] == {}
            assert after["current_item_id"] == 0
            stopping.set()
            assert [e async for e in events] == []  # the stream ends at shutdown
        server.should_exit = True
        await task
