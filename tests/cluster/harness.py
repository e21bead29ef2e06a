"""Real `octopus start` processes on loopback sharing one database and one Redis."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.harness import LISTENING, TEST_ADMIN_PASSWORD, spawn

DEAD_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there: Redis "down"
START_TIMEOUT = 60.0


@dataclass
class Instance:
    """One `octopus start` on port 0; its address is read from its log once it listens."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    address: str = ""

    @property
    def url(self) -> str:
        if not self.address and (found := LISTENING.search(self.log())):
            self.address = found.group(1)
        return self.address

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self, **kwargs: object) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30, **kwargs)  # type: ignore[arg-type]

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.alive():
            self.popen.send_signal(sig)


@dataclass
class Cluster:
    """Starts instances with one shared environment (database, Redis, prefix) plus overrides."""

    workdir: Path
    env: dict[str, str]
    instances: list[Instance] = field(default_factory=list)

    def launch(self, name: str, extra: dict[str, str] | None = None, *args: str) -> Instance:
        folder = self.workdir / name
        folder.mkdir(parents=True, exist_ok=True)
        log_path = folder / "octopus.log"
        popen = spawn(folder, log_path, {**self.env, **(extra or {})}, args)
        instance = Instance(name, popen, log_path)
        self.instances.append(instance)
        return instance

    async def start(self, name: str, extra: dict[str, str] | None = None, *args: str) -> Instance:
        instance = self.launch(name, extra, *args)
        await wait_ready(instance)
        return instance

    def stop(self) -> None:
        for instance in self.instances:
            instance.kill(signal.SIGTERM)
        for instance in self.instances:
            try:
                instance.popen.wait(timeout=40)
            except subprocess.TimeoutExpired:
                instance.kill()
                instance.popen.wait(timeout=10)


async def wait_ready(instance: Instance, timeout: float = START_TIMEOUT) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if not instance.alive():
                raise RuntimeError(f"{instance.name} exited early:\n{instance.log()}")
            if not instance.url:
                await asyncio.sleep(0.1)
                continue
            try:
                response = await client.get(instance.url + "/readyz")
                if response.status_code == 200:
                    body: dict[str, object] = response.json()
                    return body
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{instance.name} did not become ready:\n{instance.log()}")


async def measure(
    check: Callable[[], Awaitable[bool]], limit: float, poll: float = 0.02
) -> float | None:
    """Seconds until `check()` holds (polled), or None when it did not within `limit`."""
    start = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - start
        if time.monotonic() - start > limit:
            return None
        await asyncio.sleep(poll)


async def within(check: Callable[[], Awaitable[bool]], bound: float, what: str) -> float:
    """Seconds until `check()` held; fails when it took longer than the promised `bound`."""
    took = await measure(check, limit=bound)
    shown = f"not within {bound:.1f} s" if took is None else f"{took:.3f} s"
    print(f"{what}: {shown}")  # noqa: T201
    assert took is not None, f"{what}: not within {bound} s"
    assert took <= bound, f"{what}: {took:.3f} s > {bound} s"
    return took


@contextlib.asynccontextmanager
async def login(
    instance: Instance, password: str = TEST_ADMIN_PASSWORD
) -> AsyncIterator[httpx.AsyncClient]:
    """An admin client of `instance` (session cookie set), closed however the test ends."""
    async with instance.client() as client:
        response = await client.post(
            "/api/v1/user/login", json={"username": "admin", "password": password, "expire": 3600}
        )
        response.raise_for_status()
        yield client
