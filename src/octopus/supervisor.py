"""`server.workers > 1`: one listening socket, N worker processes, a dead worker replaced.

The supervisor prepares the database once (migrations, first account, token secret), binds the
port, then starts each worker as `octopus start --worker-fd FD`: a fresh interpreter that serves
on the inherited socket. SIGTERM or SIGINT is forwarded to every worker as SIGTERM; the workers
drain as a single process does, and whatever still runs after the grace period is killed.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from octopus.services.build import bootstrap_account
from octopus.services.first_admin import FirstPasswordRefused
from octopus.settings import Settings
from octopus.store.database import Database, open_database
from octopus.store.dsn import DsnError
from octopus.store.engine import DatabaseUnavailable

log = logging.getLogger("octopus.supervisor")
POLL_SECONDS = 0.2
HEALTHY_AFTER = 10.0  # a worker that lived this long resets the restart back-off
MAX_QUICK_DEATHS = 8  # consecutive early deaths before the supervisor gives up
KILL_MARGIN = 10.0  # seconds past the grace period before leftover workers are killed


async def open_or_report(settings: Settings) -> Database | None:
    """The migrated database, or None after printing why not (one line, password masked)."""
    try:
        return await open_database(settings)
    except (DsnError, DatabaseUnavailable) as exc:
        print(f"octopus: database: {exc}", file=sys.stderr)  # noqa: T201
        return None


async def prepare(settings: Settings) -> int:
    """Before workers start: migrate, create the first account and the token secret, once."""
    db = await open_or_report(settings)
    if db is None:
        return 1
    try:
        await bootstrap_account(db, settings.admin_password)
    except FirstPasswordRefused as exc:
        print(f"octopus: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    finally:
        await db.close()
    return 0


def worker_count(settings: Settings) -> int:
    return settings.workers or os.cpu_count() or 1


def listen_socket(host: str, port: int) -> socket.socket:
    """The one socket every worker accepts on; inherited by the workers."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@dataclass
class _Worker:
    slot: int
    popen: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)


class Supervisor:
    def __init__(self, settings: Settings, config: Path | None, sock: socket.socket) -> None:
        self._settings = settings
        self._config = config
        self._sock = sock
        self._stopping = False
        self._workers: dict[int, _Worker] = {}
        self._quick_deaths = 0

    def run(self, count: int) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        for slot in range(count):
            self._spawn(slot)
        log.info("octopus serving with %d workers", count, extra={"fields": {"pid": os.getpid()}})
        failed = False
        while not self._stopping:
            time.sleep(POLL_SECONDS)
            if not self._reap():
                failed = True
                break
        self._stop_all()
        return 1 if failed else 0

    def _on_signal(self, sig: int, frame: FrameType | None) -> None:
        self._stopping = True

    def _spawn(self, slot: int) -> None:
        command = [
            sys.executable,
            "-m",
            "octopus",
            "start",
            "--worker-fd",
            str(self._sock.fileno()),
        ]
        if self._config is not None:
            command += ["--config", str(self._config)]
        # its own process group: a terminal's Ctrl-C reaches the supervisor only, which forwards
        popen = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, pass_fds=(self._sock.fileno(),), process_group=0
        )
        self._workers[slot] = _Worker(slot, popen)

    def _reap(self) -> bool:
        """Replace dead workers; False when they keep dying right after start."""
        for slot, worker in list(self._workers.items()):
            code = worker.popen.poll()
            if code is None or self._stopping:
                continue
            lived = time.monotonic() - worker.started
            self._quick_deaths = self._quick_deaths + 1 if lived < HEALTHY_AFTER else 0
            log.warning(
                "worker %d (pid %d) exited with %s after %.1f s; starting a new one",
                slot,
                worker.popen.pid,
                code,
                lived,
            )
            if self._quick_deaths >= MAX_QUICK_DEATHS:
                log.error("workers keep dying at start; stopping")
                return False
            time.sleep(min(5.0, 0.25 * 2**self._quick_deaths) if self._quick_deaths else 0)
            self._spawn(slot)
        return True

    def _stop_all(self) -> None:
        for worker in self._workers.values():
            if worker.popen.poll() is None:
                worker.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self._settings.shutdown_grace_seconds + KILL_MARGIN
        for worker in self._workers.values():
            try:
                worker.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker pid %d did not stop in time; killing it", worker.popen.pid)
                worker.popen.kill()
                worker.popen.wait()
        self._sock.close()
        log.info("octopus stopped")


def inherited_socket(fd: int) -> socket.socket:
    """The supervisor's listening socket, in a worker."""
    _die_with_parent()
    return socket.socket(fileno=fd)


def _die_with_parent() -> None:
    """Ask Linux to send SIGTERM when the supervisor dies, so no orphan keeps the port."""
    if not sys.platform.startswith("linux"):  # pragma: no cover - the gateway runs on Linux
        return
    import ctypes

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() == 1:  # the supervisor died before prctl: stop now
        os.kill(os.getpid(), signal.SIGTERM)
