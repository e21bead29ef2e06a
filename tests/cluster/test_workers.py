"""`octopus start --workers 2`: two processes serve one port, a dead worker is replaced."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.cluster.fleet import worker_pids
from tests.cluster.harness import Cluster, measure, wait_ready
from tests.conftest import REDIS_URL


async def test_two_workers_share_one_port_and_a_killed_one_is_replaced(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, {"OCTOPUS_REDIS_URL": REDIS_URL, "OCTOPUS_REDIS_PREFIX": "wk:"})
    supervisor = cluster.launch("w", None, "--workers", "2")
    try:
        await wait_ready(supervisor)
        pids = await worker_pids(supervisor, 2)
        assert len(pids) == 2, pids
        assert supervisor.popen.pid not in pids
        victim = min(pids)
        os.kill(victim, signal.SIGKILL)

        async def replaced() -> bool:
            current = await worker_pids(supervisor, 2, tries=20)
            return victim not in current and len(current) == 2

        took = await measure(replaced, limit=30, poll=0.2)
        assert took is not None, supervisor.log()
        print(f"killed worker replaced and serving after {took:.2f} s")  # noqa: T201
        supervisor.popen.send_signal(signal.SIGTERM)
        assert supervisor.popen.wait(timeout=60) == 0
        assert "exited with -9" in supervisor.log()
        for pid in pids - {victim}:
            assert not _running(pid)
    finally:
        cluster.stop()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_more_than_one_worker_without_redis_refuses_with_one_line(tmp_path: Path) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "octopus", "start", "--workers", "2"],
        cwd=tmp_path,
        env={**os.environ, "OCTOPUS_SERVER_PORT": "0", "OCTOPUS_REDIS_URL": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "redis.url" in result.stderr
    assert time.monotonic() - started < 30
    assert not (tmp_path / "data" / "data.db").exists(), "nothing half-starts"


async def test_workers_zero_means_one_per_core(tmp_path: Path) -> None:
    cores = os.cpu_count() or 1
    cluster = Cluster(tmp_path, {"OCTOPUS_REDIS_URL": REDIS_URL, "OCTOPUS_SERVER_WORKERS": "0"})
    supervisor = cluster.launch("z")
    try:
        await wait_ready(supervisor)
        await asyncio.sleep(1)  # every worker past start-up
        children = _children(supervisor.popen.pid)
        expected = cores if cores > 1 else 0  # one core: a single process, no supervisor
        assert len(children) == expected, (children, supervisor.log())
    finally:
        cluster.stop()


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(p) for p in found]
