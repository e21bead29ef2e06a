"""Attacks on the admin side, each against the real `octopus start` process."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.upstream import FakeUpstream
from tests.harness import TEST_ADMIN_PASSWORD, Process, octopus_process

LOGIN = "/api/v1/user/login"
FIRST_START = {"OCTOPUS_ADMIN_PASSWORD": ""}  # admin/admin, locked down until changed


@pytest.fixture
def fake() -> Iterator[FakeUpstream]:
    """The fake upstream on a thread of its own: the blocking tests here call it."""
    with fake_in_thread() as upstream:
        yield upstream


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Process]:
    """A gateway started with a first password (no forced change)."""
    with octopus_process(tmp_path) as process:
        yield process


def login(url: str, password: str = TEST_ADMIN_PASSWORD, username: str = "admin") -> str:
    """A session token (the reply must be a success)."""
    reply = httpx.post(
        url + LOGIN, json={"username": username, "password": password, "expire": 3600}
    )
    assert reply.status_code == 200, reply.text
    token: str = reply.json()["data"]["token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def peak_rss_kib(process: Process) -> int:
    """The process's peak resident memory so far (VmHWM), from /proc."""
    status = Path(f"/proc/{process.popen.pid}/status").read_text()
    line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1])


def reset_peak_rss(process: Process) -> None:
    """Start VmHWM again from the current resident size (5 > clear_refs), so the peak measured
    next is the part under test's, not start-up's."""
    Path(f"/proc/{process.popen.pid}/clear_refs").write_text("5")


def no_traceback(process: Process) -> None:
    log = process.log()
    assert "Traceback" not in log, log[-4000:]
    assert '"status": 500' not in log


@contextlib.contextmanager
def fake_in_thread() -> Iterator[FakeUpstream]:
    """The fake upstream on its own event loop thread, so that blocking tests can call it."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-upstream", daemon=True)
    thread.start()
    fake = asyncio.run_coroutine_threadsafe(FakeUpstream().start(), loop).result(10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
