"""Run the gateway under uvicorn (uvloop + httptools) with a graceful, bounded shutdown."""

from __future__ import annotations

import asyncio
import logging
import socket
from types import FrameType

import uvicorn
import uvloop

from octopus.app import Octopus, create_app
from octopus.settings import Settings

log = logging.getLogger("octopus.server")


class _Server(uvicorn.Server):
    """uvicorn's server, also waking long-lived streams (log and runtime SSE) on SIGINT/SIGTERM."""

    def __init__(self, config: uvicorn.Config, app: Octopus) -> None:
        super().__init__(config)
        self._octopus = app

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.servers and self.servers[0].sockets:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            log.info("octopus listening", extra={"fields": {"url": f"http://{host}:{port}"}})

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        stopping = self._octopus.basics.stopping
        try:
            asyncio.get_running_loop().call_soon_threadsafe(stopping.set)
        except RuntimeError:  # no loop yet: nothing is waiting on the event
            stopping.set()
        super().handle_exit(sig, frame)
        # a graceful stop on a signal is a success: exit 0 rather than re-raising the signal
        self._captured_signals.clear()


def serve(settings: Settings) -> int:
    """Serve until a signal; 0 after a clean shutdown, 1 when start-up failed."""
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_config=None,
        proxy_headers=True,
        server_header=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        timeout_keep_alive=75,
    )
    server = _Server(config, app)
    # asyncio.run would ignore `loop="uvloop"`: build the runner on uvloop's loop ourselves
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(server.serve())
    if not server.started:
        return 1
    log.info("octopus stopped")
    return 0
