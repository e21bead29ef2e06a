"""The server's tick loop: an idle gateway wakes once a second, and a signal ends it at once."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import cast

import uvicorn

from octopus.app import Octopus
from octopus.server import _Server


async def test_an_idle_server_ticks_once_a_second_and_a_signal_ends_the_loop_at_once() -> None:
    stopping = asyncio.Event()
    app = cast(Octopus, SimpleNamespace(basics=SimpleNamespace(stopping=stopping)))
    server = _Server(uvicorn.Config(app=lambda: None), app)
    counters: list[int] = []

    async def on_tick(counter: int) -> bool:
        counters.append(counter)
        return server.should_exit

    server.on_tick = on_tick  # type: ignore[method-assign]
    loop = asyncio.create_task(server.main_loop())
    await asyncio.sleep(0.5)  # uvicorn's own loop ticks five times in this
    assert 1 <= len(counters) <= 2
    assert all(counter % 10 == 0 for counter in counters)  # each tick refreshes the Date header
    server.should_exit = True  # what handle_exit does, with `stopping`
    stopping.set()
    await asyncio.wait_for(loop, 0.9)  # before the next one-second tick
