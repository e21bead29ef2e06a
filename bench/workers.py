"""`--scenario workers` (part of `all`): what workers and shared state cost a request (issue 11).

Four gateway configurations, started together and measured in rotating rounds, each pinned to
the proxy core (two processes share it: the figure is CPU per request, not throughput over two
cores): 1 worker without Redis, 1 worker with
Redis, 2 instances without Redis (two `octopus start`, each with its own SQLite, half the load
each: what a second process on the core costs, since workers > 1 refuse to start without Redis),
and 2 workers with Redis. Each has a key with an RPM limit and `bench-model` as a two-member
round-robin group, so with Redis every request runs the limiter script and the routing script.
CPU = the CPU clocks of the supervisor and every worker; Redis is the server on 127.0.0.1:6379
under a prefix of its own (its CPU per request is shown beside: that server may serve others).

Slow Redis: one more 1-worker gateway whose Redis sits behind tests/fakes/slow_tcp.py, which
passes replies at once, 200 ms late, or never; one request at a time on a kept-alive connection
(stdlib client, every latency kept): p50, p99, the slowest, and how many took over 50 ms.
"""

from __future__ import annotations

import http.client
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from load import BODY, PATH, WrkResult, percentile, run_wrk, write_lua
from procs import BenchError, Child, cpu_seconds, free_port, say, start, wait_idle, wait_port
from redis import Redis
from redis.exceptions import RedisError
from targets import Target, start_gateway

REDIS_PORT = 6379
TWO_APART = "2 instances, no Redis"
TWO_SHARED = "2 workers + Redis"
ROUNDS = 3
SECONDS = 3.0
C1_SECONDS = 2.0  # the c=1 latency beside each row
LATE_MS = 200
PROXY = Path(__file__).resolve().parent.parent / "tests" / "fakes" / "slow_tcp.py"
# (name, workers, instances, shared through Redis)
GATEWAYS = (
    ("1 worker", 1, 1, False),
    ("1 worker + Redis", 1, 1, True),
    (TWO_APART, 1, 2, False),
    (TWO_SHARED, 2, 1, True),
)
SLOW: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("passed at once", ()),
    (f"{LATE_MS} ms late", ("--delay-ms", str(LATE_MS))),
    ("silent", ("--blackhole",)),
)
SLOW_MS = 50.0


@dataclass(frozen=True)
class Row:
    name: str
    requests: int  # over every c=50 round
    rps: float  # median of the rounds, wall clock (the workers share one core)
    cpu_us: float  # gateway CPU per request, median of the rounds
    redis_us: float | None  # the Redis server's CPU per request (None: not readable)
    errors: int
    c1: WrkResult  # c=1 latency

    @property
    def per_cpu_second(self) -> float:
        return 1e6 / self.cpu_us if self.cpu_us else 0.0


@dataclass(frozen=True)
class Latencies:
    """Sequential requests: every latency kept, in ms."""

    requests: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    over_50ms: int
    errors: int


@dataclass
class Figures:
    rows: list[Row] = field(default_factory=list)
    slow: list[tuple[str, Latencies]] = field(default_factory=list)  # the first: Redis prompt
    notes: list[str] = field(default_factory=list)

    def row(self, name: str) -> Row | None:
        return next((r for r in self.rows if r.name == name), None)


def run(work: Path, cores: tuple[str, str], upstream: Target) -> Figures:
    figures = Figures()
    redis_pid = _redis_pid()
    if redis_pid is None:
        figures.notes.append(f"workers not measured: no Redis on 127.0.0.1:{REDIS_PORT}")
        return figures
    setups: list[Setup] = []
    starts: list[tuple[Setup, str, dict[str, str]]] = []
    for name, workers, instances, shared in GATEWAYS:
        url = f"redis://127.0.0.1:{REDIS_PORT}/0" if shared else ""
        setups.append(Setup(name, [], redis_pid if shared else None))
        starts += [(setups[-1], f"{name} {n}", _env(workers, url)) for n in range(instances)]
    try:
        # started together (none is measured yet): the scenario stays within make bench's time
        with ThreadPoolExecutor(len(starts)) as pool:
            futures = [
                (setup, pool.submit(_gateway, work, cores[1], upstream, folder, env))
                for setup, folder, env in starts
            ]
            failed: BenchError | None = None
            for setup, future in futures:
                try:
                    setup.targets.append(future.result())
                except BenchError as exc:  # raised once every started one is kept (stopped)
                    failed = failed or exc
        if failed is not None:
            raise failed
        figures.rows += _measure(work, setups)
    finally:
        for setup in setups:
            for target in setup.targets:
                _stop(target)
    for row in figures.rows:
        say(_text(row))
    figures.slow = _slow_redis(work, cores, upstream)
    return figures


def _text(row: Row) -> str:
    return (
        f"{row.name:18} {row.cpu_us:,.0f} CPU µs/req = {row.per_cpu_second:,.0f} req per CPU-s, "
        f"{row.rps:,.0f} req/s, c=1 p50 {row.c1.p50_ms:.2f} ms p99 {row.c1.p99_ms:.2f} ms, "
        f"errors {row.errors}"
    )


def _redis_pid() -> int | None:
    client = Redis(port=REDIS_PORT, socket_timeout=2)
    try:
        return int(client.info("server")["process_id"])
    except (RedisError, OSError, KeyError, ValueError):
        return None
    finally:
        client.close()


def _env(workers: int, redis_url: str) -> dict[str, str]:
    env = {"OCTOPUS_SERVER_WORKERS": str(workers), "OCTOPUS_REDIS_URL": redis_url}
    if redis_url:
        env["OCTOPUS_REDIS_PREFIX"] = f"bench{free_port()}:"  # fresh counters every run
    return env


def _gateway(work: Path, core: str, upstream: Target, name: str, env: dict[str, str]) -> Target:
    folder = "workers-" + name.replace(" ", "").replace("+", "-")
    return start_gateway(work, core, upstream, folder, True, env)


def _stop(target: Target) -> None:
    for child in target.procs:
        child.stop()


@dataclass
class Setup:
    """One gateway configuration: its instances (each a supervisor and its workers)."""

    name: str
    targets: list[Target]
    redis_pid: int | None  # the Redis server it shares state through (None: no Redis)
    rounds: list[tuple[WrkResult, float, float | None]] = field(default_factory=list)

    def pids(self) -> list[int]:
        return [pid for t in self.targets for pid in t.pids()]


def _measure(work: Path, setups: list[Setup]) -> list[Row]:
    """ROUNDS rounds, each configuration once per round in a rotating order: a drift of the
    machine's speed during the scenario spreads over every configuration alike."""
    scripts = {s.name: [(t.url, write_lua(work, t.key)) for t in s.targets] for s in setups}
    for setup in setups:
        _load(scripts[setup.name], 1.0)  # warm-up: every worker past its first requests
    for number in range(ROUNDS):
        shift = number % len(setups)
        for setup in setups[shift:] + setups[:shift]:
            setup.rounds.append(_round(scripts[setup.name], setup))
    return [_row(setup, run_wrk(*scripts[setup.name][0], 1, C1_SECONDS)) for setup in setups]


def _round(scripts: list[tuple[str, Path]], setup: Setup) -> tuple[WrkResult, float, float | None]:
    pids = setup.pids()
    wait_idle(pids)
    before, redis_before = cpu_seconds(pids), _cpu(setup.redis_pid)
    wrk = _load(scripts, SECONDS)
    spent, redis_spent = cpu_seconds(pids) - before, _cpu(setup.redis_pid)
    redis_us = None if redis_spent is None or redis_before is None else redis_spent - redis_before
    count = max(1, wrk.requests)
    return wrk, spent / count * 1e6, None if redis_us is None else redis_us / count * 1e6


def _row(setup: Setup, c1: WrkResult) -> Row:
    rounds = setup.rounds
    redis = [r for _, _, r in rounds if r is not None]
    return Row(
        setup.name,
        sum(w.requests for w, _, _ in rounds),
        statistics.median(w.rps for w, _, _ in rounds),
        statistics.median(cpu for _, cpu, _ in rounds),
        statistics.median(redis) if redis else None,
        sum(w.errors for w, _, _ in rounds) + c1.errors,
        c1,
    )


def _load(scripts: list[tuple[str, Path]], seconds: float) -> WrkResult:
    """wrk c=50 in all, split evenly over the targets and run together; one result for all."""
    each = 50 // len(scripts)
    with ThreadPoolExecutor(len(scripts)) as pool:
        runs = list(pool.map(lambda s: run_wrk(*s, each, seconds), scripts))
    if len(runs) == 1:
        return runs[0]
    return WrkResult(
        sum(r.requests for r in runs),
        max(r.seconds for r in runs),
        sum(r.errors for r in runs),
        max(r.p50_ms for r in runs),
        max(r.p99_ms for r in runs),
    )


def _cpu(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        return cpu_seconds([pid])
    except OSError:
        return None


def _slow_redis(
    work: Path, cores: tuple[str, str], upstream: Target
) -> list[tuple[str, Latencies]]:
    """Sequential latency of a 1-worker gateway while its Redis answers at once, late, never."""
    port = free_port()
    proxy = _proxy(work, cores[0], port, ())
    out: list[tuple[str, Latencies]] = []
    target: Target | None = None
    try:
        env = _env(1, f"redis://127.0.0.1:{port}/0")
        target = _gateway(work, cores[1], upstream, "slow redis", env)
        for name, flags in SLOW:
            proxy.stop()
            proxy = _proxy(work, cores[0], port, flags)
            _sequential(target, 2.0)  # the gateway has met the new proxy
            out.append((name, _sequential(target, SECONDS)))
            found = out[-1][1]
            say(
                f"Redis {name:15} p50 {found.p50_ms:.2f} ms p99 {found.p99_ms:.2f} ms max "
                f"{found.max_ms:.1f} ms, {found.over_50ms} of {found.requests} over {SLOW_MS:g} ms"
            )
    except BenchError as exc:
        say(f"slow Redis not measured: {exc}")
    finally:
        if target is not None:
            _stop(target)
        proxy.stop()
    return out


def _sequential(target: Target, seconds: float) -> Latencies:
    host, port = target.url.rsplit("/", 1)[1].split(":")
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {target.key}"}
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    took: list[float] = []
    errors = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.perf_counter()
        conn.request("POST", PATH, BODY, headers)
        reply = conn.getresponse()
        reply.read()
        took.append((time.perf_counter() - started) * 1000)
        errors += reply.status != 200
    conn.close()
    return Latencies(
        len(took),
        percentile(took, 50),
        percentile(took, 99),
        max(took, default=0.0),
        sum(t > SLOW_MS for t in took),
        errors,
    )


def _proxy(work: Path, core: str, port: int, flags: tuple[str, ...]) -> Child:
    argv = [sys.executable, str(PROXY), "--port", str(port), "--target", str(REDIS_PORT), *flags]
    child = start("slow-redis", argv, core, work / f"slow-redis-{len(flags)}.log")
    wait_port(port, child.popen)
    return child
