"""`--scenario instructions`: what each target executes per stream and per event, counted.

CPU time moves with the machine and with whatever else runs on it; an instruction count does
not. Each target runs under `valgrind --tool=callgrind`, which counts the instructions the
process executes in user space, and counts only while a load runs (`callgrind_control`):
STREAMS concurrent OpenAI streams of 10 events, then of 50 events, 20 ms apart, then PLAIN
non-stream requests, ROUNDS times (the median is kept). Per event = (count(50) - count(10)) /
(STREAMS x 40); per stream = count(10) / STREAMS - 10 x per event: the request's own work.
Many events per read: streams of 10 and 210 events the upstream writes at once, for each
path the target serves (passthrough; the gateway also the three conversions of the burst
scenario), per event as above.
The kernel's share (sockets, wake-ups) is not in these counts. The configuration poll is
slowed to once an hour; other background work inside a window is counted: hence the rounds.
Targets: python-floor, gateway (request logging on), gateway-nolog. Not part of `all`.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import lean_client as lc
import uvloop
from procs import BenchError, tool
from targets import FLOOR, Target, start_floor, start_gateway

STREAMS = 20  # few enough that a target slowed ~50x by valgrind still reads one event at a time
PLAIN = 40
ROUNDS = 3
SHORT, LONG = 10, 50
BURST_SHORT, BURST_LONG = 10, 210  # events written at once (many per read), as the burst scenario
PACE_MS = 20
TOP = 15  # functions listed for the gateway, by their own instructions
# the configuration poll (every 2 s, ~3.6 M instructions) would land in some windows and not in
# others; nothing changes the configuration during the count
QUIET = {"OCTOPUS_CONFIG_POLL_SECONDS": "3600"}
SETTLE = 2.0  # seconds: the writer flushes 0.5 s after a record comes (slower under valgrind)
_TOTALS = re.compile(rb"^totals:\s+(\d+)", re.M)


@dataclass
class Counts:
    name: str
    per_stream: float = 0.0
    per_event: float = 0.0
    per_request: float = 0.0  # non-stream
    top: list[tuple[int, str]] = field(default_factory=list)  # (instructions, function)
    burst: dict[str, float] = field(default_factory=dict)  # path -> per event, many per read


def run(work: Path, cores: tuple[str, str], upstream: Target) -> list[Counts]:
    """Count floor, gateway and gateway-nolog in turn, each in a process of its own."""
    found: list[Counts] = []
    for name in (FLOOR, "gateway", "gateway-nolog"):
        out = work / f"{name}.cg"
        wrap = [tool("valgrind"), "--tool=callgrind", "--instr-atstart=no"]
        wrap.append(f"--callgrind-out-file={out}")
        if name == FLOOR:
            target = start_floor(work, cores[1], upstream, wrap=wrap)
        else:
            target = start_gateway(
                work,
                cores[1],
                upstream,
                f"cg-{name}",
                name == "gateway",
                wrap=wrap,
                env_extra=QUIET,
            )
        try:
            found.append(_measure(name, target, out))
        finally:
            for child in target.procs:
                child.stop()
    return found


def _measure(name: str, target: Target, out: Path) -> Counts:
    pid = target.procs[0].pid  # taskset execs valgrind, which runs the target in this process
    uvloop.run(_streams(target, SHORT))  # warm: pools, caches, the first request's imports
    rounds: list[tuple[int, int, int]] = []
    dump = out
    for _ in range(ROUNDS):
        short, dump = _counted(pid, out, lambda: uvloop.run(_streams(target, SHORT)))
        long, _ = _counted(pid, out, lambda: uvloop.run(_streams(target, LONG)))
        plain, _ = _counted(pid, out, lambda: uvloop.run(_plain(target)))
        rounds.append((short, long, plain))
    short_median = statistics.median(r[0] for r in rounds)
    long_median = statistics.median(r[1] for r in rounds)
    per_event = (long_median - short_median) / (STREAMS * (LONG - SHORT))
    top = _top(dump) if name == "gateway" else []
    return Counts(
        name,
        per_stream=short_median / STREAMS - SHORT * per_event,
        per_event=per_event,
        per_request=statistics.median(r[2] for r in rounds) / PLAIN,
        top=top,
        burst={path: _burst(pid, out, target, build) for path, who, build in _served(name)},
    )


def _served(name: str) -> list[tuple[str, str, lc.Build]]:
    """The paths `name` serves (the floor relays one protocol as it is)."""
    return [p for p in lc.PATHS if p[1] == "all" or name == "gateway"]


def _burst(pid: int, out: Path, target: Target, build: lc.Build) -> float:
    """Instructions per event of streams the upstream writes at once; the median of ROUNDS."""

    def load(events: int) -> Callable[[], None]:
        return lambda: uvloop.run(_streams(target, events, build, burst=True))

    per_event = []
    for _ in range(ROUNDS):
        short, _ = _counted(pid, out, load(BURST_SHORT))
        long, _ = _counted(pid, out, load(BURST_LONG))
        per_event.append((long - short) / (STREAMS * (BURST_LONG - BURST_SHORT)))
    return statistics.median(per_event)


def _counted(pid: int, out: Path, load: Callable[[], None]) -> tuple[int, Path]:
    """Instructions the process executed while `load()` ran, and the dump holding them."""
    before = set(out.parent.glob(out.name + ".*"))
    _control("--zero", pid)
    _control("--instr=on", pid)
    try:
        load()
        time.sleep(SETTLE)  # the log writer's flush of these requests, inside their window
    finally:
        _control("--instr=off", pid)
        _control("--dump", pid)
    new = sorted(set(out.parent.glob(out.name + ".*")) - before, key=lambda p: p.stat().st_mtime)
    if not new:
        raise BenchError(f"callgrind wrote no dump for pid {pid}")
    found = _TOTALS.search(new[-1].read_bytes())
    if found is None:
        raise BenchError(f"no totals in {new[-1]}")
    return int(found.group(1)), new[-1]


def _control(option: str, pid: int) -> None:
    done = subprocess.run(
        [tool("callgrind_control"), option, str(pid)], capture_output=True, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"callgrind_control {option} {pid}: {done.stderr.decode()[:200]}")


async def _streams(
    target: Target, events: int, build: lc.Build | None = None, *, burst: bool = False
) -> None:
    conns = await lc.connect(int(target.url.rsplit(":", 1)[1]), STREAMS)
    make = build or lc.PATHS[0][2]
    call = make(target.key, events, 0 if burst else PACE_MS, burst)
    try:
        answers = await asyncio.gather(*(lc.ask(c, call, 120) for c in conns))
    finally:
        lc.close(conns)
    if not all(a.ok(call) for a in answers):
        raise BenchError(f"{target.name}: a counted stream failed")


async def _plain(target: Target) -> None:
    conns = await lc.connect(int(target.url.rsplit(":", 1)[1]), 4)
    call = lc.plain_call(target.key, "bench-model")

    async def run(conn: lc.Conn) -> bool:
        return all([(await lc.ask(conn, call, 120)).ok(call) for _ in range(PLAIN // 4)])

    try:
        ok = await asyncio.gather(*(run(c) for c in conns))
    finally:
        lc.close(conns)
    if not all(ok):
        raise BenchError(f"{target.name}: a counted request failed")


def _top(dump: Path) -> list[tuple[int, str]]:
    """The functions with the most instructions of their own in `dump` (C level: Python code
    shows as the interpreter's functions)."""
    text = subprocess.run(
        [tool("callgrind_annotate"), str(dump)], capture_output=True, check=False, text=True
    ).stdout
    rows = []
    for line in text.splitlines():
        match = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+(\S.*)$", line)
        if match and "PROGRAM TOTALS" not in line:
            where = match.group(2).split(" [")[0]
            rows.append((int(match.group(1).replace(",", "")), where.rsplit("/", 1)[-1]))
    return rows[:TOP]


def section(counts: list[Counts]) -> list[str]:
    """The markdown for RESULTS: the counts beside the floor's, then the gateway's top list."""
    if not counts:
        return []
    floor = next((c for c in counts if c.name == FLOOR), None)
    lines = [
        f"User-space instructions counted by callgrind: {STREAMS} concurrent OpenAI passthrough "
        f"streams of {SHORT} and of {LONG} events {PACE_MS} ms apart, and {PLAIN} non-stream "
        f"requests; the median of {ROUNDS} rounds. They do not move with the machine's load, "
        "so two commits compare exactly; the kernel's share is not counted.",
        "",
        "| target | per stream (its own work) | per event | per non-stream request | "
        "stream × floor |",
        "|---|---|---|---|---|",
    ]
    for c in counts:
        ratio = f"{c.per_stream / floor.per_stream:.1f}×" if floor and floor.per_stream else "–"
        lines.append(
            f"| {c.name} | {c.per_stream:,.0f} | {c.per_event:,.0f} | {c.per_request:,.0f} | "
            f"{ratio} |"
        )
    lines += _burst_lines(counts)
    gateway = next((c for c in counts if c.top), None)
    if gateway is not None:
        lines += [
            "",
            f"The gateway's {len(gateway.top)} costliest functions in one {SHORT}-event round "
            "(instructions of their own; Python code shows as the interpreter):",
            "",
            "| instructions | function |",
            "|---|---|",
            *[f"| {count:,} | `{where}` |" for count, where in gateway.top],
        ]
    return lines


def _burst_lines(counts: list[Counts]) -> list[str]:
    """Per event when the upstream writes a whole stream at once, each path beside passthrough."""
    rows = [(c.name, path, n) for c in counts for path, n in c.burst.items()]
    if not rows:
        return []
    through = {c.name: c.burst.get(lc.PATHS[0][0], 0.0) for c in counts}
    lines = [
        "",
        f"Many events per read: {STREAMS} streams whose upstream writes {BURST_SHORT} and "
        f"{BURST_LONG} events at once; instructions per event (the median of {ROUNDS} rounds), "
        "beside the same target's passthrough:",
        "",
        "| target | path | per event | × passthrough |",
        "|---|---|---|---|",
    ]
    for name, path, n in rows:
        ratio = f"{n / through[name]:.2f}×" if through.get(name) else "–"
        lines.append(f"| {name} | {path} | {n:,.0f} | {ratio} |")
    return lines


def history(counts: list[Counts]) -> str:
    return "; ".join(
        f"{c.name} {c.per_stream / 1000:,.0f}k instructions/stream, {c.per_event:,.0f}/event"
        + (f", many per read {'/'.join(f'{n:,.0f}' for n in c.burst.values())}" if c.burst else "")
        for c in counts
    )
