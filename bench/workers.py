"""`--scenario workers` (part of `all`): what workers and shared state cost a request (issue 11).

Three gateways, one after the other, each pinned to the proxy core (two workers share it: the
figure is CPU per request, not throughput over two cores): 1 worker without Redis, 1 worker with
Redis, 2 workers with Redis. Each has a key with an RPM limit and `bench-model` as a two-member
round-robin group, so with Redis every request runs the limiter script and the routing script.
CPU = utime + stime of the supervisor and every worker; Redis is the server on 127.0.0.1:6379
under a prefix of its own (its CPU per request is shown beside: that server may serve others).

Slow Redis: one more 1-worker gateway whose Redis sits behind tests/fakes/slow_tcp.py, which
passes replies at once, 200 ms late, or never; wrk c=1 latency p50 / p99 for each.
"""

from __future__ import annotations

import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

from load import WrkResult, run_wrk, write_lua
from procs import BenchError, Child, cpu_seconds, free_port, start, wait_idle, wait_port
from redis import Redis
from redis.exceptions import RedisError
from targets import Target, start_gateway

REDIS_PORT = 6379
ROUNDS = 3
SECONDS = 3.0
LATE_MS = 200
PROXY = Path(__file__).resolve().parent.parent / "tests" / "fakes" / "slow_tcp.py"
GATEWAYS = (("1 worker", 1, False), ("1 worker + Redis", 1, True), ("2 workers + Redis", 2, True))
SLOW = (
    (f"Redis {LATE_MS} ms late", ("--delay-ms", str(LATE_MS))),
    ("Redis silent", ("--blackhole",)),
)


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


@dataclass
class Figures:
    rows: list[Row] = field(default_factory=list)
    slow: list[tuple[str, WrkResult]] = field(default_factory=list)  # c=1 with Redis slow
    notes: list[str] = field(default_factory=list)

    def row(self, name: str) -> Row | None:
        return next((r for r in self.rows if r.name == name), None)


def run(work: Path, cores: tuple[str, str], upstream: Target) -> Figures:
    figures = Figures()
    redis_pid = _redis_pid()
    if redis_pid is None:
        figures.notes.append(f"workers not measured: no Redis on 127.0.0.1:{REDIS_PORT}")
        return figures
    for name, workers, shared in GATEWAYS:
        url = f"redis://127.0.0.1:{REDIS_PORT}/0" if shared else ""
        target = _gateway(work, cores[1], upstream, name, _env(workers, url))
        try:
            figures.rows.append(_measure(work, target, name, redis_pid if shared else None))
        finally:
            _stop(target)
        _say(_text(figures.rows[-1]))
    figures.slow = _slow_redis(work, cores, upstream)
    return figures


def _say(text: str) -> None:
    print(text, flush=True)


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


def _measure(work: Path, target: Target, name: str, redis_pid: int | None) -> Row:
    script = write_lua(work, target.key)
    run_wrk(target.url, script, 50, 1.0)  # warm-up: every worker past its first requests
    pids = target.pids()  # the supervisor and its workers
    rounds: list[tuple[WrkResult, float, float | None]] = []
    for _ in range(ROUNDS):
        wait_idle(pids)
        before, redis_before = cpu_seconds(pids), _cpu(redis_pid)
        wrk = run_wrk(target.url, script, 50, SECONDS)
        spent, redis_spent = cpu_seconds(pids) - before, _cpu(redis_pid)
        redis_us = (
            None if redis_spent is None or redis_before is None else redis_spent - redis_before
        )
        count = max(1, wrk.requests)
        rounds.append(
            (wrk, spent / count * 1e6, None if redis_us is None else redis_us / count * 1e6)
        )
    c1 = run_wrk(target.url, script, 1, SECONDS)
    redis = [r for _, _, r in rounds if r is not None]
    return Row(
        name,
        sum(w.requests for w, _, _ in rounds),
        statistics.median(w.rps for w, _, _ in rounds),
        statistics.median(cpu for _, cpu, _ in rounds),
        statistics.median(redis) if redis else None,
        sum(w.errors for w, _, _ in rounds) + c1.errors,
        c1,
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
) -> list[tuple[str, WrkResult]]:
    """c=1 latency of a 1-worker gateway while its Redis answers late or not at all."""
    port = free_port()
    proxy = _proxy(work, cores[0], port, ())
    out: list[tuple[str, WrkResult]] = []
    target: Target | None = None
    try:
        env = _env(1, f"redis://127.0.0.1:{port}/0")
        target = _gateway(work, cores[1], upstream, "slow redis", env)
        script = write_lua(work, target.key)
        for name, flags in SLOW:
            proxy.stop()
            proxy = _proxy(work, cores[0], port, flags)
            run_wrk(target.url, script, 1, 2.0)  # the pool has met the new proxy
            out.append((name, run_wrk(target.url, script, 1, SECONDS)))
            _say(f"{name:18} c=1 p50 {out[-1][1].p50_ms:.2f} ms p99 {out[-1][1].p99_ms:.2f} ms")
    except BenchError as exc:
        _say(f"slow Redis not measured: {exc}")
    finally:
        if target is not None:
            _stop(target)
        proxy.stop()
    return out


def _proxy(work: Path, core: str, port: int, flags: tuple[str, ...]) -> Child:
    argv = [sys.executable, str(PROXY), "--port", str(port), "--target", str(REDIS_PORT), *flags]
    child = start("slow-redis", argv, core, work / f"slow-redis-{len(flags)}.log")
    wait_port(port, child.popen)
    return child
