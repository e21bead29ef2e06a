"""A real gateway process under load: SIGKILL loses at most the last second of acknowledged
records (and logs and stats still agree after a restart); SIGTERM loses none."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.harness import TEST_ADMIN_PASSWORD, Process, octopus_process, wait_until_up

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _start_driver(workdir: Path) -> tuple[Process, Path]:
    """tests/logs/load_driver.py: the real app and server, with records reported as the relay does."""
    env = {
        **os.environ,
        "OCTOPUS_SERVER_PORT": "0",
        "OCTOPUS_SERVER_HOST": "127.0.0.1",
        "OCTOPUS_ADMIN_PASSWORD": TEST_ADMIN_PASSWORD,
        "PYTHONPATH": str(REPO),
    }
    out = workdir / "acknowledged.txt"
    log_path = workdir / "driver.log"
    with out.open("wb") as stdout, log_path.open("wb") as stderr:
        popen = subprocess.Popen(
            [sys.executable, "-m", "tests.logs.load_driver", "8", "0.004"],
            cwd=workdir, env=env, stdout=stdout, stderr=stderr,
        )  # fmt: skip
    process = Process(popen, "", workdir, log_path)
    wait_until_up(process)
    return process, out


def _acknowledged(out: Path) -> dict[str, float]:
    acked: dict[str, float] = {}
    for line in out.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            acked[parts[0]] = float(parts[1])
    return acked


def _wait_for_load(out: Path, count: int) -> None:
    deadline = time.monotonic() + 30
    while len(_acknowledged(out)) < count:
        assert time.monotonic() < deadline, "the driver produced too little"
        time.sleep(0.05)


def _stored(workdir: Path) -> set[str]:
    with sqlite3.connect(workdir / "data" / "data.db") as conn:
        return {row[0] for row in conn.execute("SELECT request_id FROM request_logs")}


def _admin_totals(url: str) -> tuple[int, int]:
    with httpx.Client(base_url=url, timeout=30) as client:
        login = {"username": "admin", "password": TEST_ADMIN_PASSWORD, "expire": 3600}
        client.post("/api/v1/user/login", json=login).raise_for_status()
        listed = client.get("/api/v1/log/page", params={"page_size": 1}).json()["data"]
        total = client.get("/api/v1/stats/total").json()["data"]
    return listed["total"], total["request_success"] + total["request_failed"]


def test_sigkill_loses_at_most_the_last_second(tmp_path: Path) -> None:
    driver, out = _start_driver(tmp_path)
    _wait_for_load(out, 3000)
    killed_at = time.time()
    driver.popen.send_signal(signal.SIGKILL)
    driver.popen.wait(timeout=30)

    acked, stored = _acknowledged(out), _stored(tmp_path)
    assert len(acked) >= 3000
    assert stored <= set(acked), "nothing is stored that was not reported"
    missing = sorted(acked[r] for r in set(acked) - stored)
    assert not missing or missing[0] >= killed_at - 1.0, (
        f"{len(missing)} records lost, the oldest {killed_at - missing[0]:.2f}s before the kill"
    )

    with octopus_process(tmp_path) as restarted:  # the real `octopus start` on the same data
        logged, counted = _admin_totals(restarted.url)
        restarted.popen.send_signal(signal.SIGTERM)
        assert restarted.popen.wait(timeout=30) == 0
    assert logged == counted == len(stored), "logs and statistics agree after a hard kill"


def test_sigterm_loses_nothing(tmp_path: Path) -> None:
    driver, out = _start_driver(tmp_path)
    _wait_for_load(out, 2000)
    driver.popen.send_signal(signal.SIGTERM)
    assert driver.popen.wait(timeout=60) == 0, driver.log()
    acked, stored = _acknowledged(out), _stored(tmp_path)
    assert len(acked) >= 2000
    assert stored == set(acked), f"{len(set(acked) - stored)} acknowledged records were lost"
