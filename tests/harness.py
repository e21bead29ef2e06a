"""Run the real gateway in-process (uvicorn on a free loopback port) or as a real subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from octopus.app import Octopus, create_app
from octopus.services.container import Services
from octopus.settings import Settings
from octopus.web.native import native_protocol
from tests.conftest import bound_port

# tests start the gateway with this first password (OCTOPUS_ADMIN_PASSWORD): no forced change;
# tests of the admin/admin first-start lockdown pass admin_password="" / OCTOPUS_ADMIN_PASSWORD=""
TEST_ADMIN_PASSWORD = "test-admin-pw"
# the update check asks a loopback port nothing listens on: never the internet, always refused
OFFLINE_RELEASES_URL = "http://127.0.0.1:1/repos/none/none/releases/latest"


@dataclass
class Gateway:
    url: str
    app: Octopus

    @property
    def services(self) -> Services:
        return self.app.services


def sqlite_settings(tmp: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "models_dev_url": "",  # tests never reach beyond loopback
        "update_repository": OFFLINE_RELEASES_URL,
        "admin_password": TEST_ADMIN_PASSWORD,
    }
    values.update(overrides)
    return Settings(
        database_type="sqlite",
        database_path=str(tmp / "data" / "data.db"),
        config_path=tmp / "data" / "config.json",
        **values,  # type: ignore[arg-type]
    )


@contextlib.asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[Gateway]:
    """The full app (lifespan included) on 127.0.0.1:<any port> inside the test's event loop."""
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="on",
        log_config=None,
        access_log=False,
        proxy_headers=False,  # as `octopus start`: only server.trusted_proxies are believed
        http=native_protocol(app.claim),  # as `octopus start`: relay requests served natively
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("gateway failed to start")
            await asyncio.sleep(0.01)
        yield Gateway(f"http://127.0.0.1:{bound_port(server)}", app)
    finally:
        app.basics.stopping.set()
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)


async def admin_client(gateway: Gateway, password: str = TEST_ADMIN_PASSWORD) -> httpx.AsyncClient:
    """An httpx client logged in as admin (cookie set)."""
    client = httpx.AsyncClient(base_url=gateway.url, timeout=30)
    response = await client.post(
        "/api/v1/user/login", json={"username": "admin", "password": password, "expire": 3600}
    )
    response.raise_for_status()
    return client


LISTENING = re.compile(r'msg="octopus listening" url=(\S+)')


@dataclass
class Process:
    popen: subprocess.Popen[bytes]
    url: str  # empty until the process logged the port it bound
    workdir: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def spawn(
    workdir: Path, log_path: Path, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
) -> subprocess.Popen[bytes]:
    """`octopus start [args]` in `workdir` on 127.0.0.1 port 0, output written to `log_path`;
    the one place a test process gets its environment (test password, no internet)."""
    environ = {
        **os.environ,
        "OCTOPUS_SERVER_PORT": "0",
        "OCTOPUS_SERVER_HOST": "127.0.0.1",
        "OCTOPUS_PRICES_MODELS_DEV_URL": "",  # tests never reach beyond loopback
        "OCTOPUS_UPDATE_REPOSITORY": OFFLINE_RELEASES_URL,
        "OCTOPUS_ADMIN_PASSWORD": TEST_ADMIN_PASSWORD,  # not the locked-down admin/admin
        **(env or {}),
    }
    with log_path.open("wb") as log:  # a fresh log: its first "listening" line is this process's
        return subprocess.Popen(
            [sys.executable, "-m", "octopus", "start", *args],
            cwd=workdir,
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@contextlib.contextmanager
def octopus_process(
    workdir: Path, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
) -> Iterator[Process]:
    """`octopus start [args]` as a real process in `workdir` on port 0; stopped with SIGTERM at
    the end."""
    log_path = workdir / "octopus.log"
    process = Process(spawn(workdir, log_path, env, args), "", workdir, log_path)
    try:
        wait_until_up(process)
        yield process
    finally:
        stop(process)


def stop(process: Process, timeout: float = 30.0) -> int:
    """SIGTERM and wait, as an operator stops it; SIGKILL only when it hangs (a test failure)."""
    if process.popen.poll() is None:
        process.popen.send_signal(signal.SIGTERM)
    try:
        return process.popen.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.popen.kill()
        process.popen.wait(timeout=timeout)
        raise AssertionError(
            f"octopus ignored SIGTERM for {timeout:g}s:\n{process.log()}"
        ) from None


def wait_until_up(process: Process, timeout: float = 30.0) -> None:
    """Read the bound port from the log (`octopus listening url=...`), then wait for answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"octopus exited early:\n{process.log()}")
        if not process.url and (found := LISTENING.search(process.log())):
            process.url = found.group(1)
        if process.url:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(process.url + "/api/v1/user/status", timeout=1)
                return
        time.sleep(0.1)
    raise RuntimeError(f"octopus did not come up:\n{process.log()}")
