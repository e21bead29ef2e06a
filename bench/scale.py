"""`--scenario paced|burst|soak|all`: streaming at scale, beside nginx and direct, to markdown.

paced  non-stream CPU per request (wrk c=50), added TTFB at c=1 with paced events, and waves of
       N concurrent streams × 50 events × 20 ms (N = 100, 1,000, 2,000, 5,000), plus the largest
       N whose p99 stays ≤ 1.5× the ideal 1.0 s
burst  CPU per relayed event, one event per read and many per read, passthrough and converted
soak   500 paced streams open at all times + 200 non-stream req/s; RSS, fds and tasks over time
workers  CPU per request with 1 / 2 workers and Redis-shared state, latency with Redis slow
instructions  instructions per stream, per event and per request under callgrind (not in all)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import lean_client as lc
import scenarios as sc
import uvloop
from instructions import Counts
from load import run_wrk, write_lua
from procs import cores, cpu_seconds, open_fds, say, sockets_to, wait_idle
from targets import FLOOR, Target
from workers import Figures

LEVELS = (100, 1000, 2000, 5000)
TARGET_LEVELS = (100, 1000)  # the targets: two measured waves; the other levels one
FLOOR_LEVELS = TARGET_LEVELS  # the Python floor is a reference at the target levels only
PACE_LIMIT = 1.5 * sc.IDEAL_S


@dataclass
class Report:
    """Figures per target name, filled by the scenarios that ran."""

    cpu_req_us: dict[str, float] = field(default_factory=dict)
    req_load: dict[str, sc.Load] = field(default_factory=dict)
    ttfb: dict[str, tuple[float, float]] = field(default_factory=dict)
    waves: dict[str, dict[int, sc.Wave]] = field(default_factory=dict)
    largest: dict[str, int] = field(default_factory=dict)
    costs: list[tuple[str, sc.EventCost]] = field(default_factory=list)
    soak: sc.Soak | None = None
    idle_rss: dict[str, float] = field(default_factory=dict)
    workers: Figures | None = None  # workers and shared state (bench/workers.py)
    instructions: list[Counts] = field(default_factory=list)  # bench/instructions.py


PROFILE_STREAMS = 500


def paced_profile_load(target: Target, upstream: Target, seconds: float) -> None:
    """The profile's stream load: PROFILE_STREAMS paced streams (50 × 20 ms) at a time."""
    uvloop.run(sc.paced_for(_probe(target, upstream, cores()), PROFILE_STREAMS, seconds))


def _probe(target: Target, upstream: Target, cores: tuple[str, str]) -> sc.Probe:
    port = int(target.url.rsplit(":", 1)[1])
    return sc.Probe(port, target.key, target.pids, upstream.pids, cores)


def run_paced(report: Report, targets: list[Target], upstream: Target, work: Path) -> None:
    cores = _cores(upstream, targets)
    for target in targets:
        probe = _probe(target, upstream, cores)
        script = write_lua(work, target.key)
        wait_idle(target.pids())
        meter = probe.interference()
        before = cpu_seconds(target.pids())
        wrk = run_wrk(target.url, script, 50, 3.0)
        spent = cpu_seconds(target.pids()) - before
        report.cpu_req_us[target.name] = spent / max(1, wrk.requests) * 1e6
        report.req_load[target.name] = sc._load(meter)
        say(f"{target.name:8} non-stream {report.cpu_req_us[target.name]:,.0f} CPU µs/req")
        if target.name != FLOOR:
            report.ttfb[target.name] = uvloop.run(sc.ttfb_c1(probe))
            say(f"{target.name:8} c=1 first event p50 {report.ttfb[target.name][0]:.3f} ms")
    for n in LEVELS:
        for target in targets:
            if target.name == FLOOR and n not in FLOOR_LEVELS:
                continue
            probe = _probe(target, upstream, cores)
            wait_idle(target.pids())
            wave = uvloop.run(sc.paced_level(probe, n, waves=2 if n in TARGET_LEVELS else 1))
            report.waves.setdefault(target.name, {})[n] = wave
            say(
                f"{target.name:8} paced n={n:>5}: p50 {wave.p50_ms:,.0f} ms p99 {wave.p99_ms:,.0f}"
                f" ms, {wave.cpu_us:,.0f} CPU µs/stream, errors {wave.errors}, peak "
                f"{wave.rss_peak_mb:.0f} MB ({wave.load.text()}) {wave.error_sample[:200]}"
            )
    for target in (t for t in targets if t.name != FLOOR):
        probe = _probe(target, upstream, cores)
        known = report.waves[target.name]
        report.largest[target.name] = uvloop.run(sc.largest_keeping_pace(probe, known, PACE_LIMIT))
        say(f"{target.name:8} largest n with p99 ≤ {PACE_LIMIT:g} s: {report.largest[target.name]}")


def run_burst(report: Report, targets: list[Target], upstream: Target) -> None:
    cores = _cores(upstream, targets)
    for path, who, build in lc.PATHS:
        for target in targets:
            if who not in ("all", target.name):
                continue
            probe = _probe(target, upstream, cores)
            for burst in (False, True):
                wait_idle(target.pids())

                def make(
                    n: int, pace: int, b: bool, key: str = target.key, build: lc.Build = build
                ) -> lc.Call:
                    return build(key, n, pace, b)

                cost = uvloop.run(sc.event_cost(probe, path, make, burst=burst))
                report.costs.append((target.name, cost))
                say(
                    f"{target.name:8} {path}, {cost.pattern}: {cost.per_event_us:.1f} µs/event, "
                    f"errors {cost.errors} ({cost.load.text()}) {cost.error_sample[:200]}"
                )


def run_soak(report: Report, gateway: Target, upstream: Target, seconds: float) -> None:
    """The soak on `gateway` (a process of its own: no earlier wave's heap in its RSS)."""
    cores = _cores(upstream, [gateway])
    probe = _probe(gateway, upstream, cores)
    tasks_file = gateway.procs[0].log.parent / "tasks.txt"

    def tasks() -> int:
        try:
            return int(tasks_file.read_text() or -1)
        except (OSError, ValueError):
            return -1

    def fds() -> int:
        return open_fds(gateway.procs[0].pid)

    idle_before = _idle_counts(gateway, upstream, tasks, fds)
    report.soak = uvloop.run(sc.soak(probe, seconds, tasks, fds))
    after = _idle_counts(gateway, upstream, tasks, fds)
    report.soak.idle_before, report.soak.idle_after = idle_before, after
    for sample in report.soak.samples:
        say(
            f"soak {sample.at:>4.0f} s: RSS {sample.rss_mb:.1f} MB, fds {sample.fds}, tasks "
            f"{sample.tasks} ({sample.in_flight} requests in flight), streams {sample.streams}, "
            f"requests {sample.requests}, errors {sample.errors}"
        )
    say(f"soak idle (tasks, fds, pooled upstream connections): {idle_before} → {after}")


def _idle_counts(
    gateway: Target, upstream: Target, tasks: Callable[[], int], fds: Callable[[], int]
) -> tuple[int, int, int]:
    """(tasks, fds, upstream keep-alive connections among the fds) once the gateway is idle and
    has rewritten its task count (every second)."""
    wait_idle(gateway.pids())
    time.sleep(2.5)
    return tasks(), fds(), sockets_to(gateway.procs[0].pid, int(upstream.url.rsplit(":", 1)[1]))


def _cores(upstream: Target, targets: list[Target]) -> tuple[str, str]:
    return cores()


def scenario_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenario",
        default="all",
        choices=("paced", "burst", "soak", "workers", "all", "classic", "instructions"),
        help="all = paced + burst + soak + workers; classic = the c=50 rounds of issue 3; "
        "instructions = counts under callgrind, to bench/INSTRUCTIONS.md (not in all)",
    )
    parser.add_argument("--soak-seconds", type=float, default=600.0)
