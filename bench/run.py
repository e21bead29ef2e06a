"""`make bench`: the end-to-end relay benchmark: gateway vs nginx vs the upstream called directly.

A fast fake OpenAI upstream, nginx as a plain reverse proxy and the real gateway (one channel,
one group, one key, configured through the admin API, request logging on; plus the same with
logging off), each proxy pinned to one core, the upstream and the load generators on the other.
Medians of a few short rounds; the figures go to bench/RESULTS.md with the commit and machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import instructions
import machine
import scale
import scale_report
import spy
import uvloop
import workers
import workers_report
from load import StreamResult, WrkResult, probe, run_wrk, stream_load, write_lua
from procs import (
    BenchError,
    Interference,
    cores,
    cpu_seconds,
    ensure_tools,
    peak_rss_mb,
    reset_peak_rss,
    say,
    wait_idle,
    wait_quiet,
)
from report import (
    NOLOG,
    Sample,
    checks,
    checks_table,
    history_line,
    medians,
    metrics_table,
    old_history,
    per_round,
    render,
)
from targets import FLOOR, Target, start_floor, start_gateway, start_nginx, start_upstream

BENCH_DIR = Path(__file__).resolve().parent
ALL_TARGETS = ("direct", "nginx", "gateway", NOLOG)
T = TypeVar("T")
QUIET = 15.0  # % busy per CPU from other processes above which a round counts as disturbed


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of a c=50 phase")
    parser.add_argument("--c1-seconds", type=float, default=2.0, help="length of a c=1 phase")
    parser.add_argument(
        "--targets",
        default="",
        help="comma-separated (default: all for the scenario: classic adds gateway-nolog)",
    )
    parser.add_argument("--chunk-delay-ms", type=float, default=0.0, help="upstream SSE pacing")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "RESULTS.md")
    parser.add_argument("--no-write", action="store_true", help="print, do not write RESULTS.md")
    parser.add_argument(
        "--quiet-wait", type=float, default=30.0, help="seconds to wait for idle CPUs first"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also sample the gateway with py-spy (PROFILE.md)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs)")
    scale.scenario_args(parser)
    return parser.parse_args()


class Bench:
    """Starts the targets, runs the rounds, keeps the samples."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.load_core, self.target_core = cores()
        self.targets: list[Target] = []
        self.notes: list[str] = []
        self.rounds: dict[str, list[Sample]] = {}
        self.rss: dict[str, float] = {}  # peak RSS during the rounds
        self.rss_start: dict[str, float] = {}  # peak RSS from start-up to the rounds
        self.load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])

    def start(self, wanted: list[str]) -> None:
        upstream = start_upstream(self.work, self.load_core, self.args.chunk_delay_ms)
        self.targets.append(upstream)
        starters: dict[str, Callable[[], Target]] = {
            "nginx": lambda: start_nginx(self.work, self.target_core, upstream),
            "gateway": lambda: start_gateway(
                self.work, self.target_core, upstream, "gateway", logging=True
            ),
            NOLOG: lambda: start_gateway(self.work, self.target_core, upstream, NOLOG, False),
        }
        for name in wanted:
            if name in starters:
                self._add(name, starters[name])
        if "direct" not in wanted:
            upstream.name = "upstream"  # still the load, but not a measured row

    def _add(self, name: str, starter: Callable[[], Target]) -> None:
        say(f"starting {name} ...")
        try:
            target = starter()
        except BenchError as exc:
            self.notes.append(f"{name} not measured: {str(exc).splitlines()[0]}")
            say(f"  {name} NOT measured: {exc}")
            return
        self.targets.append(target)
        problem = uvloop.run(probe(target.url, target.key))
        if problem:
            self.notes.append(f"{name} not measured: its answer was wrong: {problem}")
            say(f"  {name} NOT measured: {problem}\n{target.procs[0].tail()}")
            target.name = f"{name} (broken)"

    def measured(self) -> list[Target]:
        return [t for t in self.targets if t.name in ALL_TARGETS]

    def warm_up(self) -> None:
        for target in self.measured():
            script = write_lua(self.work, target.key)
            run_wrk(target.url, script, 50, 1.0)
            uvloop.run(stream_load(target.url, target.key, 10, 1.0))

    def run_rounds(self) -> None:
        targets = self.measured()
        for target in targets:  # start-up and admin login peaks apart from the relay's own
            self.rss_start[target.name] = peak_rss_mb(target.pids())
            reset_peak_rss(target.pids())
        for number in range(self.args.rounds):
            shift = number % max(1, len(targets))
            for target in targets[shift:] + targets[:shift]:
                if not self._alive(target, number):
                    continue
                sample = self.measure(target)
                self.rounds.setdefault(target.name, []).append(sample)
                say(
                    f"round {number + 1} {target.name:14} {sample['rps']:>9,.0f} req/s  "
                    f"c1 p50 {sample['c1_p50']:.3f} ms  {sample['sps']:>6,.0f} streams/s  "
                    f"errors {sample['errors']:.0f}"
                )
        for target in targets:
            if target.name in self.rounds and self._alive(target, self.args.rounds):
                self.rss[target.name] = peak_rss_mb(target.pids())

    def _alive(self, target: Target, number: int) -> bool:
        code = target.procs[0].popen.poll()
        if code is None:
            return True
        note = f"{target.name} exited (code {code}) before round {number + 1}"
        if note not in self.notes:
            self.notes.append(note)
            say(f"  {note}:\n{target.procs[0].tail()}")
        return False

    def measure(self, target: Target) -> Sample:
        pids = target.pids()
        upstream = self.targets[0].pids()
        others = Interference(
            (self.load_core, upstream), (self.target_core, [] if pids == upstream else pids)
        )
        script = write_lua(self.work, target.key)
        seconds, short = self.args.seconds, self.args.c1_seconds
        wait_idle(pids)
        c50, cpu_c50 = _timed(pids, lambda: run_wrk(target.url, script, 50, seconds))
        wait_idle(pids)
        c1 = run_wrk(target.url, script, 1, short)
        wait_idle(pids)
        s1 = uvloop.run(stream_load(target.url, target.key, 1, short))
        wait_idle(pids)
        s50, cpu_s50 = _timed(
            pids, lambda: uvloop.run(stream_load(target.url, target.key, 50, seconds))
        )
        sample = _sample(c50, c1, s1, s50, cpu_c50, cpu_s50)
        sample["foreign_load"], sample["foreign_target"] = others.percent()
        return sample

    def profile(self, seconds: float = 6.0) -> str | None:
        """py-spy on the gateway under c=50 non-stream, then stream load; PROFILE.md text."""
        target = next((t for t in self.targets if t.name == "gateway"), None)
        if target is None:
            return None
        script = write_lua(self.work, target.key)
        pid = target.procs[0].pid
        wait_idle(target.pids())
        plain = spy.record(
            pid, seconds, self.work / "plain.raw", lambda: run_wrk(target.url, script, 50, seconds)
        )
        wait_idle(target.pids())
        streams = spy.record(
            pid, seconds, self.work / "stream.raw", self._stream_load(target, seconds)
        )
        header = [
            f"- commit `{machine.commit()}`, {seconds:g} s per profile, py-spy at 200 Hz; "
            "idle event-loop time is not sampled",
            "- a garbage-collection pause is charged to whatever line allocated when it began, "
            "so small helpers can look hot; `(no gateway frame)` is event-loop callback work "
            "(socket reads, HTTP parsing) and the log writer's SQLAlchemy calls; `(event loop's "
            "own C code)` is uvloop itself",
        ]
        return spy.render(
            [
                spy.summary("Non-stream, wrk c=50", plain),
                spy.summary(self._stream_title(), streams),
            ],
            header,
        )

    def _stream_load(self, target: Target, seconds: float = 8.0) -> Callable[[], object]:
        """Classic: 100-chunk streams at c=50; the scale scenarios: paced streams (issue 13)."""
        if self.args.scenario == "classic":
            return lambda: uvloop.run(stream_load(target.url, target.key, 50, seconds))
        return lambda: scale.paced_profile_load(target, self.targets[0], seconds)

    def _stream_title(self) -> str:
        if self.args.scenario == "classic":
            return "Stream (100 chunks), c=50"
        return f"Paced streams ({scale.PROFILE_STREAMS} at a time, 50 events × 20 ms)"

    def stop(self) -> None:
        for target in reversed(self.targets):
            for child in target.procs:
                child.stop()


def _timed(pids: list[int], work: Callable[[], T]) -> tuple[T, float]:
    before = cpu_seconds(pids)
    result = work()
    return result, cpu_seconds(pids) - before


def _sample(
    c50: WrkResult,
    c1: WrkResult,
    s1: StreamResult,
    s50: StreamResult,
    cpu_c50: float,
    cpu_s50: float,
) -> Sample:
    return {
        "rps": c50.rps,
        "c50_p50": c50.p50_ms,
        "c50_p99": c50.p99_ms,
        "c1_p50": c1.p50_ms,
        "c1_p99": c1.p99_ms,
        "cpu_req_us": cpu_c50 / c50.requests * 1e6 if c50.requests else 0.0,
        "s1_ttfb": s1.ttfb_p50_ms,
        "s1_total": s1.total_p50_ms,
        "sps": s50.per_second,
        "s50_ttfb_p50": s50.ttfb_p50_ms,
        "s50_ttfb_p99": s50.ttfb_p99_ms,
        "s50_total_p50": s50.total_p50_ms,
        "s50_total_p99": s50.total_p99_ms,
        "cpu_stream_us": cpu_s50 / s50.streams * 1e6 if s50.streams else 0.0,
        "errors": float(c50.errors + c1.errors + s1.errors + s50.errors),
    }


def _profile(bench: Bench) -> str | None:
    try:
        return bench.profile()
    except BenchError as exc:
        say(f"profile: {exc}")
        return None


def _disturbed(bench: Bench) -> list[str]:
    worst = max(
        (
            max(s.get("foreign_load", 0), s.get("foreign_target", 0))
            for r in bench.rounds.values()
            for s in r
        ),
        default=0.0,
    )
    if worst < QUIET:
        return []
    return [
        f"other processes used up to {worst:.0f} % of a CPU during some rounds (see Per round): "
        "those figures are disturbed; rerun on a quiet machine"
    ]


def _results(bench: Bench, args: argparse.Namespace, started: float) -> str:
    table = medians(bench.rounds)
    for name, rss in bench.rss.items():
        table[name]["rss_load_mb"] = rss
        table[name]["rss_mb"] = max(rss, bench.rss_start.get(name, 0.0))
    names = [n for n in ALL_TARGETS if n in table]
    found = checks(table)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    commit = machine.commit()
    setup = [
        f"- **Date**: {now}; **commit**: `{commit}`; run took {time.monotonic() - started:.0f} s",
        f"- **Machine**: {machine.machine()}; {machine.versions()}; load average before the run "
        f"{bench.load_before} (other work on the machine skews figures)",
        f"- **Layout**: every proxy pinned to CPU {bench.target_core} (`taskset`); the fake "
        f"upstream, wrk (1 thread) and the SSE client on CPU {bench.load_core}",
        f"- **Method**: medians of {args.rounds} rounds; c=50 phases {args.seconds:g} s, c=1 "
        f"phases {args.c1_seconds:g} s; streams are 100 content chunks + usage + [DONE] "
        f"(upstream pacing {args.chunk_delay_ms:g} ms); gateway = `octopus start`, SQLite, "
        "one channel / group / key via the admin API, auth + routing + accounting on; "
        f"`{NOLOG}` is the same with request logging off",
        *[f"- **Note**: {note}" for note in [*bench.notes, *_disturbed(bench), *_lost(bench)]],
    ]
    sections = [
        ("", setup),
        (
            "Targets",
            [
                *(checks_table(found) if found else ["gateway not measured"]),
                "",
                "*From CPU time*: 1e6 ÷ the gateway's CPU µs per request (or stream), i.e. what it "
                "would do with its core to itself; trust it over the measured column when the "
                "Per round table shows other processes on the CPUs.",
            ],
        ),
        (f"Figures (medians of {args.rounds} rounds)", metrics_table(table, names)),
        (
            "Per round",
            [
                "req/s and streams/s at c=50, then the % of each CPU that processes outside the "
                "benchmark used during the round (other work on a shared machine):",
                "",
                *per_round(bench.rounds),
            ],
        ),
    ]
    history = [history_line(table, found, f"{now} `{commit}`"), *old_history(args.out)]
    return render(sections, history)


def _measure(
    bench: Bench, args: argparse.Namespace, wanted: list[str], started: float
) -> tuple[str, str | None]:
    """Run the chosen scenario; (RESULTS.md text or "" for classic, PROFILE.md text)."""
    bench.start(wanted)
    say("warming up ...")
    bench.warm_up()
    if args.scenario == "classic":
        bench.run_rounds()
        return "", _profile(bench) if args.profile else None
    report = _scale(bench, args)
    profile = _profile(bench) if args.profile else None
    return _scale_results(bench, args, started, report, profile), profile


def _scale(bench: Bench, args: argparse.Namespace) -> scale.Report:
    report = scale.Report()
    measured = bench.measured()
    upstream = bench.targets[0]
    gateway = next((t for t in measured if t.name == "gateway"), None)
    if args.scenario in ("paced", "all"):
        scale.run_paced(report, measured + _floor(bench, upstream), upstream, bench.work)
    if args.scenario in ("burst", "all"):
        scale.run_burst(report, measured + _floor(bench, upstream), upstream)
    if args.scenario in ("soak", "all") and gateway is not None:
        bench._add("gateway-soak", lambda: _fresh_gateway(bench, upstream))
        soaker = next((t for t in bench.targets if t.name == "gateway-soak"), None)
        if soaker is not None:
            scale.run_soak(report, soaker, upstream, args.soak_seconds)
    if args.scenario in ("workers", "all"):
        report.workers = workers.run(bench.work, (bench.load_core, bench.target_core), upstream)
    if args.scenario == "instructions":
        report.instructions = instructions.run(
            bench.work, (bench.load_core, bench.target_core), upstream
        )
    return report


def _floor(bench: Bench, upstream: Target) -> list[Target]:
    """The Python floor (bench/floor_proxy.py), started once for the scenarios that show it."""
    if not any(t.name == FLOOR for t in bench.targets):
        bench._add(FLOOR, lambda: start_floor(bench.work, bench.target_core, upstream))
    return [t for t in bench.targets if t.name == FLOOR]


def _fresh_gateway(bench: Bench, upstream: Target) -> Target:
    """A gateway started for the soak alone, so the paced waves' heap is not in its RSS."""
    return start_gateway(bench.work, bench.target_core, upstream, "gateway-soak", logging=True)


def _scale_results(
    bench: Bench,
    args: argparse.Namespace,
    started: float,
    report: scale.Report,
    profile: str | None,
) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    commit = machine.commit()
    setup = [
        f"- **Date**: {now}; **commit**: `{commit}`; scenario `{args.scenario}`; run took "
        f"{time.monotonic() - started:.0f} s",
        f"- **Machine**: {machine.machine()}; {machine.versions()}; load average before the run "
        f"{bench.load_before}, after {' '.join(Path('/proc/loadavg').read_text().split()[:3])}",
        f"- **Layout**: every proxy pinned to CPU {bench.target_core} (`taskset`); the fake "
        f"upstream and the load (wrk, bench/lean_client.py) on CPU {bench.load_core}. *load* "
        "in the tables = 1-min load average, then the % of the load CPU / proxy CPU that "
        "processes outside the bench used while the figure was taken",
        "- **Gateway** = `octopus start` (SQLite), channels/groups/key via the admin API, auth, "
        "routing, accounting and request logging on",
        *[f"- **Note**: {note}" for note in [*bench.notes, *_lost(bench)]],
    ]
    if args.scenario == "instructions":
        line = f"- {now} `{commit}`: {instructions.history(report.instructions)}"
        counted = [("", setup), ("Instructions", instructions.section(report.instructions))]
        return render(counted, [line, *old_history(args.out)])
    sections: list[tuple[str, list[str]]] = [
        ("", setup),
        ("Targets (issue 13)", scale_report.targets(report)),
        ("Non-stream CPU", scale_report.non_stream(report)),
        ("Time to first event", scale_report.ttfb(report)),
        ("Paced streams", scale_report.paced(report)),
        ("Per-event cost", scale_report.burst(report)),
        ("Soak", scale_report.soak(report)),
        ("Workers and shared state (issue 11)", workers_report.section(report.workers)),
    ]
    if profile:
        sections.append(
            ("Profile", ["Top frames (full tables in bench/PROFILE.md):", "", *_top(profile)])
        )
    line = f"- {now} `{commit}` ({args.scenario}): {scale_report.history_text(report)}"
    return render([s for s in sections if s[1]], [line, *old_history(args.out)])


def _lost(bench: Bench) -> list[str]:
    """A gateway that dropped request log records kept up only by not writing them: say so."""
    notes = []
    for target in bench.measured():
        for child in target.procs:
            text = child.log.read_text(errors="replace") if child.log.exists() else ""
            if "dropping records" in text or "records lost" in text:
                notes.append(f"{target.name} DROPPED request log records (see its log)")
    return notes


def _top(profile: str, limit: int = 12) -> list[str]:
    """The first table of each profile section of PROFILE.md."""
    out: list[str] = []
    for part in profile.split("### ")[1:]:
        title, _, rest = part.partition("\n")
        rows = [line for line in rest.splitlines() if line.startswith("|")][: limit + 2]
        out += [f"**{title.strip()}**", "", *rows, ""]
    return out


def main() -> int:
    args = _args()
    if args.scenario == "instructions" and args.out == BENCH_DIR / "RESULTS.md":
        args.out = BENCH_DIR / "INSTRUCTIONS.md"  # RESULTS.md keeps the CPU-time figures
    default = ALL_TARGETS if args.scenario == "classic" else ALL_TARGETS[:3]
    wanted = [
        name.strip() for name in (args.targets or ",".join(default)).split(",") if name.strip()
    ]
    unknown = sorted(set(wanted) - set(ALL_TARGETS))
    if unknown:
        say(f"bench: unknown target(s) {', '.join(unknown)}; known: {', '.join(ALL_TARGETS)}")
        return 2
    started = time.monotonic()
    try:
        ensure_tools()
    except BenchError as exc:
        say(f"bench: {exc}")
        return 2
    say("waiting for the CPUs to be quiet ...")
    busy = wait_quiet(cores(), QUIET, args.quiet_wait)
    if busy >= QUIET:
        say(f"  other processes keep a CPU {busy:.0f} % busy: figures will be noisy")
    work = Path(tempfile.mkdtemp(prefix="octopus-bench-"))
    bench = Bench(args, work)
    os.sched_setaffinity(0, {int(bench.load_core)})  # wrk and the SSE client inherit the load core
    try:
        text, profile = _measure(bench, args, wanted, started)
    except BenchError as exc:
        say(f"bench: {exc}")
        return 1
    finally:
        bench.stop()
        if not args.keep:
            subprocess.run(["rm", "-rf", str(work)], check=False)
        else:
            say(f"logs kept in {work}")
    if profile:
        (BENCH_DIR / "PROFILE.md").write_text(profile)
        print(profile)
    text = text or _results(bench, args, started)
    print(text)
    if not args.no_write:
        args.out.write_text(text)
        say(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
