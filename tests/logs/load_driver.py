"""A real gateway process under a steady stream of finished requests, for the durability tests.

Runs the same app and server as `octopus start` (data/config.json in the working directory,
OCTOPUS_* overrides) and, once it is up, reports records to `app.services.record_sink` from several
concurrent tasks, the way the relay does. After each `finished()` it prints
`<request_id> <unix time>` so the test knows what was acknowledged and when.
Stops producing when shutdown begins (SIGTERM sets `stopping`).

Usage: python -m tests.logs.load_driver [tasks] [pause_seconds]
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import uvicorn

from octopus.app import Octopus, create_app
from octopus.core.logs import setup_logging
from octopus.records.request import Attempt
from octopus.server import _Server
from octopus.settings import Settings
from tests.logs.factory import record


async def _produce(app: Octopus, worker: int, pause: float) -> None:
    state = app.services
    prefix = f"p{os.getpid()}-w{worker}"
    n = 0
    while not state.stopping.is_set():
        n += 1
        now = time.time()
        rec = record(request_id=f"{prefix}-{n}", started_at=now, status="running")
        state.record_sink.started(rec)
        await asyncio.sleep(pause)
        if state.stopping.is_set():
            return  # a request still running at shutdown is never acknowledged
        rec.status = "success" if n % 7 else "failed"
        rec.attempts = [Attempt(1, "c1", "m", 1, now, rec.status, 200, "", 1)]
        rec.duration_ms = int((time.time() - now) * 1000)
        state.record_sink.finished(rec)
        sys.stdout.write(f"{rec.request_id} {time.time():.6f}\n")
        sys.stdout.flush()


async def main(tasks: int, pause: float) -> None:
    settings = Settings.load()
    setup_logging(settings.log_level)
    app = create_app(settings)
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, lifespan="on", log_config=None,
        access_log=False, timeout_graceful_shutdown=10,
    )  # fmt: skip
    server = _Server(config, app)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            return
        await asyncio.sleep(0.01)
    producers = [asyncio.create_task(_produce(app, i, pause)) for i in range(tasks)]
    await serving
    await asyncio.gather(*producers)


if __name__ == "__main__":
    asyncio.run(
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 8,
            float(sys.argv[2]) if len(sys.argv) > 2 else 0.005,
        )
    )
