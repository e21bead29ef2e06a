"""Attacks on the admin side, each against the real `octopus start` process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import TEST_ADMIN_PASSWORD, Process, octopus_process

LOGIN = "/api/v1/user/login"
FIRST_START = {"OCTOPUS_ADMIN_PASSWORD": ""}  # admin/admin, locked down until changed


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
