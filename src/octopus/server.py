"""Run the gateway under uvicorn (uvloop + httptools) with a graceful, bounded shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import subprocess
import sys
from pathlib import Path
from types import FrameType

import uvicorn
import uvloop

from octopus.app import Octopus, create_app
from octopus.settings import Settings
from octopus.store.database import schema_is_current
from octopus.supervisor import (
    Supervisor,
    inherited_socket,
    listen_socket,
    prepare,
    worker_count,
)
from octopus.web.native import native_protocol

log = logging.getLogger("octopus.server")
TICK_SECONDS = 1.0  # uvicorn wakes ten times a second; its Date header changes once a second


class _Server(uvicorn.Server):
    """uvicorn's server, also waking long-lived streams (log and runtime SSE) on SIGINT/SIGTERM."""

    def __init__(self, config: uvicorn.Config, app: Octopus) -> None:
        super().__init__(config)
        self._octopus = app

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.servers and self.servers[0].sockets:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            fields = {
                "url": f"http://{host}:{port}",
                "timezone": self._octopus.basics.settings.timezone,
            }
            if self._octopus.basics.settings.debug:
                fields["mode"] = "debug"
            log.info("octopus listening", extra={"fields": fields})

    async def main_loop(self) -> None:
        """uvicorn's tick loop, woken once a second or at once by a signal (an idle gateway
        otherwise spends CPU on ten wake-ups a second)."""
        counter = 0
        stopping = self._octopus.basics.stopping
        while not await self.on_tick(counter):
            counter = (counter + 10) % 864000  # a multiple of ten: every tick refreshes the Date
            if stopping.is_set():  # exiting without uvicorn's flag yet: poll as uvicorn does
                await asyncio.sleep(0.1)
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TICK_SECONDS):
                    await stopping.wait()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        stopping = self._octopus.basics.stopping
        try:
            asyncio.get_running_loop().call_soon_threadsafe(stopping.set)
        except RuntimeError:  # no loop yet: nothing is waiting on the event
            stopping.set()
        super().handle_exit(sig, frame)
        # a graceful stop on a signal is a success: exit 0 rather than re-raising the signal
        self._captured_signals.clear()


def serve(settings: Settings, worker_fd: int | None = None) -> int:
    """Serve until a signal; 0 after a clean shutdown, 1 when start-up failed.

    `worker_fd`: serve on the supervisor's listening socket instead of binding the port.
    """
    sockets = None if worker_fd is None else [inherited_socket(worker_fd)]
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http=native_protocol(app.claim),  # httptools; relay requests served by web/native.py
        ws="none",  # no WebSocket route: the websockets library is not loaded (~1.5 MB)
        lifespan="on",
        access_log=settings.debug,  # OCTOPUS_DEBUG: one line per request
        log_config=None,
        proxy_headers=False,  # web/proxies.py believes only server.trusted_proxies
        server_header=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        timeout_keep_alive=75,
    )
    server = _Server(config, app)
    # asyncio.run would ignore `loop="uvloop"`: build the runner on uvloop's loop ourselves
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(server.serve(sockets=sockets))
    if not server.started:
        return 1
    log.info("octopus stopped")
    return 0


def migrate_apart(settings: Settings, config: Path | None) -> int:
    """A schema behind the newest revision is migrated by a child `octopus migrate` (its exit
    code): alembic, mako and pygments (~10 MB) then never load in the serving process."""
    if asyncio.run(schema_is_current(settings)):
        return 0
    command = [sys.executable, "-m", "octopus", "migrate"]
    if config is not None:
        command += ["--config", str(config)]
    # our own interpreter and arguments
    return subprocess.run(command, check=False).returncode  # noqa: S603


def serve_workers(settings: Settings, config: Path | None) -> int:
    """`server.workers`: one process as today, or a supervisor over N workers on one port."""
    count = worker_count(settings)
    if count == 1:
        return migrate_apart(settings, config) or serve(settings)
    if not settings.redis_url:
        print(  # noqa: T201
            f"octopus: server.workers={count} needs redis.url: limits, routing state and "
            "configuration changes are shared through Redis",
            file=sys.stderr,
        )
        return 2
    code = asyncio.run(prepare(settings))
    if code:
        return code
    try:
        sock = listen_socket(settings.host, settings.port)
    except OSError as exc:
        where = f"{settings.host}:{settings.port}"
        print(f"octopus: cannot listen on {where}: {exc.strerror}", file=sys.stderr)  # noqa: T201
        return 1
    return Supervisor(settings, config, sock).run(count)
