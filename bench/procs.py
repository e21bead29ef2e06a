"""Process plumbing for the benchmark: pinned children, ports, CPU time and peak RSS from /proc."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
STARTED = time.monotonic()
APT_COMMAND = "apt-get update && apt-get install -y nginx wrk"


def say(text: str) -> None:
    """A progress line, with the seconds since the benchmark started (15 minutes is its bound)."""
    print(f"[{time.monotonic() - STARTED:4.0f} s] {text}", flush=True)


class BenchError(Exception):
    """A reason the benchmark cannot run; printed as one line."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{proc.args!r} exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise BenchError(f"nothing listens on port {port} after {timeout:.0f} s")


def ensure_tools() -> None:
    """Install nginx and wrk from Debian when missing (as root), or say how to."""
    missing = [tool for tool in ("nginx", "wrk", "taskset") if not _which(tool)]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise BenchError(f"missing {', '.join(missing)}: run `sudo sh -c '{APT_COMMAND}'`")
    print(f"installing {', '.join(missing)} from Debian ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "nginx", "wrk"], check=True, env=env)


def _which(tool: str) -> str | None:
    return shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")


def tool(name: str) -> str:
    path = _which(name)
    if path is None:
        raise BenchError(f"{name} not found")
    return path


def cores() -> tuple[str, str]:
    """(load core, target core): load on the first CPU, the proxy under test on the last."""
    cpus = sorted(os.sched_getaffinity(0))
    return str(cpus[0]), str(cpus[-1])


@dataclass
class Child:
    """A started child process, its log file, and what to call it in messages."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def tree(self) -> list[int]:
        """The process and its direct children (nginx workers)."""
        return [self.pid, *children(self.pid)]

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def start(
    name: str,
    argv: Sequence[str],
    core: str,
    log: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Child:
    """Start `argv` pinned to `core` with stdout/stderr going to `log`."""
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [tool("taskset"), "-c", core, *argv],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=env,
        )
    return Child(name, popen, log)


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """CPU time the processes ran, all threads (exited ones too), to the nanosecond.

    Read from each process's CPU-time clock (the scheduler's own sum), not from utime + stime in
    /proc/<pid>/stat: those are sampled at each 10 ms tick, and a relay that runs in bursts of
    tens of µs is charged a whole tick or nothing, which moved a 100-stream wave's CPU by ±20 %.
    """
    total = 0.0
    for pid in pids:
        try:
            total += time.clock_gettime(_cpu_clock(pid))
        except OSError:  # gone, or a kernel without per-process clocks: its /proc ticks
            total += _stat_seconds(pid)
    return total


def _cpu_clock(pid: int) -> int:
    """The clock id clock_getcpuclockid(3) gives for `pid` (Linux: the process's CPUCLOCK_SCHED)."""
    return ((~pid) << 3) | 2


def _stat_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _status_kb(pids: Sequence[int], field: str) -> float:
    total_kb = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith(field):
                total_kb += int(line.split()[1])
    return total_kb


def peak_rss_mb(pids: Sequence[int]) -> float:
    """Sum of VmHWM (peak resident set) over the processes, in MB."""
    return _status_kb(pids, "VmHWM:") / 1024


def rss_mb(pids: Sequence[int]) -> float:
    """Sum of VmRSS (resident set now) over the processes, in MB."""
    return _status_kb(pids, "VmRSS:") / 1024


def open_fds(pid: int) -> int:
    try:
        return sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return -1


def sockets_to(pid: int, port: int) -> int:
    """How many of the process's fds are TCP connections to `port` (e.g. pooled upstream ones)."""
    remote: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            remote[fields[9]] = int(fields[2].rsplit(":", 1)[1], 16)  # inode -> remote port
    try:
        links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
    except OSError:
        return -1
    inodes = [link[8:-1] for link in links if link.startswith("socket:[")]
    return sum(1 for inode in inodes if remote.get(inode) == port)


def reset_peak_rss(pids: Sequence[int]) -> None:
    """Restart VmHWM from the current RSS (Linux clear_refs 5), so later peaks exclude start-up."""
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            continue


def wait_idle(pids: Sequence[int], timeout: float = 10.0) -> None:
    """Wait until the processes use < 5 % CPU, so one phase's backlog cannot leak into the next."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(pids)
        time.sleep(0.2)
        if cpu_seconds(pids) - before <= 0.01:
            return


def core_busy(core: str) -> float:
    """CPU seconds the core spent busy (all processes, including steal), from /proc/stat."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{core} "):
            v = [int(x) for x in line.split()[1:9]]
            return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / TICKS
    return 0.0


def own_cpu() -> float:
    """CPU seconds of this process and its waited-for children (wrk)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class Interference:
    """Share of each core that processes outside the benchmark used while it measured."""

    def __init__(self, load: tuple[str, list[int]], target: tuple[str, list[int]]) -> None:
        self.load, self.target = load, target
        self._start = self._snapshot()

    def _snapshot(self) -> tuple[float, float, float]:
        (load_core, load_pids), (target_core, target_pids) = self.load, self.target
        load_foreign = core_busy(load_core) - own_cpu() - cpu_seconds(load_pids)
        target_foreign = core_busy(target_core) - cpu_seconds(target_pids)
        return time.monotonic(), load_foreign, target_foreign

    def percent(self) -> tuple[float, float]:
        """(load core, target core) foreign busy time since creation, in % of wall time."""
        end = self._snapshot()
        wall = max(end[0] - self._start[0], 1e-9)
        return (
            max(0.0, (end[1] - self._start[1]) / wall * 100),
            max(0.0, (end[2] - self._start[2]) / wall * 100),
        )


def wait_quiet(cores: Sequence[str], limit: float, timeout: float) -> float:
    """Wait until every core is under `limit` % busy over a second; returns the last busiest %."""
    deadline = time.monotonic() + timeout
    while True:
        before = [core_busy(core) for core in cores]
        time.sleep(1.0)
        busiest = max((core_busy(core) - b) * 100 for core, b in zip(cores, before, strict=True))
        if busiest < limit or time.monotonic() >= deadline:
            return busiest
