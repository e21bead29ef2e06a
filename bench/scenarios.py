"""The issue-13 scenarios: paced streams at scale, per-event cost (burst), and the soak.

Every figure comes with the CPU time the target's processes used (their CPU clocks, all
threads: the steady figure on a shared machine) and the machine load while it was measured.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import lean_client as lc
from load import percentile
from procs import Interference, cpu_seconds, peak_rss_mb, reset_peak_rss, rss_mb

PACE_MS = 20
EVENTS = 50
IDEAL_S = EVENTS * PACE_MS / 1000


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


@dataclass
class Load:
    """How busy the machine was while a figure was taken."""

    loadavg: str = ""
    others_load_pct: float = 0.0  # CPU % of the load core used by processes outside the bench
    others_target_pct: float = 0.0

    def text(self) -> str:
        return (
            f"load {self.loadavg}, others {self.others_load_pct:.0f} % / "
            f"{self.others_target_pct:.0f} %"
        )


@dataclass
class Wave:
    """`n` concurrent paced streams started together."""

    n: int
    ok: int
    errors: int
    p50_ms: float
    p99_ms: float
    cpu_us: float  # per stream
    rss_idle_mb: float
    rss_peak_mb: float
    load: Load
    error_sample: str = ""

    @property
    def kb_per_stream(self) -> float:
        return max(0.0, self.rss_peak_mb - self.rss_idle_mb) * 1024 / max(1, self.n)


@dataclass
class Probe:
    """Where a target's figures come from: its port, key, processes and the other core's."""

    port: int
    key: str
    pids: Callable[[], list[int]]
    load_pids: Callable[[], list[int]]
    cores: tuple[str, str]  # (load core, target core)

    def interference(self) -> Interference:
        pids = self.pids()
        upstream = self.load_pids()
        return Interference(
            (self.cores[0], upstream), (self.cores[1], [] if pids == upstream else pids)
        )


def _load(meter: Interference) -> Load:
    load_pct, target_pct = meter.percent()
    return Load(loadavg(), load_pct, target_pct)


async def paced_wave(probe: Probe, conns: list[lc.Conn], call: lc.Call, measure: bool) -> Wave:
    """Every connection starts one paced stream at once; CPU and peak RSS over the wave."""
    pids = probe.pids()
    idle = rss_mb(pids)
    reset_peak_rss(pids)
    meter = probe.interference()
    before = cpu_seconds(pids)
    answers = await asyncio.gather(*(lc.ask(c, call, IDEAL_S * 30 + 30) for c in conns))
    await _settle(pids)
    cpu = cpu_seconds(pids) - before
    good = [a for a in answers if a.ok(call)]
    bad = [a for a in answers if not a.ok(call)]
    totals = [a.total_ms for a in good]
    return Wave(
        n=len(conns),
        ok=len(good),
        errors=len(bad),
        p50_ms=percentile(totals, 50),
        p99_ms=percentile([a.total_ms for a in answers], 99),
        cpu_us=cpu / len(conns) * 1e6,
        rss_idle_mb=idle,
        rss_peak_mb=peak_rss_mb(pids) if measure else 0.0,
        load=_load(meter),
        error_sample=_why(bad[0], call) if bad else "",
    )


def _kind(answer: lc.Answer) -> str:
    """The error's kind without its details: "connection lost", "status 502", ..."""
    if answer.error:
        return answer.error.partition(":")[0]
    return f"status {answer.status}" if answer.status != 200 else "incomplete stream"


def _why(answer: lc.Answer, call: lc.Call) -> str:
    if answer.error:
        return answer.error
    body = bytes(answer.body)
    try:
        found = len(lc.tokens(answer.content()))
    except ValueError:
        found = -1  # a malformed chunk size
    return f"status {answer.status}, {found}/{call.events} events: {body[-160:]!r}"


async def _settle(pids: Sequence[int], limit: float = 5.0) -> None:
    """Let the target finish its bookkeeping (log writes) so its CPU lands in this wave."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = cpu_seconds(pids)
        await asyncio.sleep(0.2)
        if cpu_seconds(pids) - before <= 0.01:
            return


async def paced_for(probe: Probe, n: int, seconds: float) -> int:
    """Waves of n paced streams, one after another, for about `seconds` (the profile's load);
    how many streams answered in full."""
    conns = await lc.connect(probe.port, n)
    call = lc.openai_call(probe.key, "bench-model", EVENTS, PACE_MS)
    done, deadline = 0, time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            answers = await asyncio.gather(*(lc.ask(c, call, IDEAL_S * 30 + 30) for c in conns))
            done += sum(1 for a in answers if a.ok(call))
    finally:
        lc.close(conns)
    return done


async def paced_level(probe: Probe, n: int, waves: int = 2) -> Wave:
    """`waves` measured waves of n streams after one warm-up wave; CPU averaged, p99 the worst."""
    conns = await lc.connect(probe.port, n)
    call = lc.openai_call(probe.key, "bench-model", EVENTS, PACE_MS)
    try:
        await paced_wave(probe, conns, call, measure=False)
        measured = [await paced_wave(probe, conns, call, measure=True) for _ in range(waves)]
    finally:
        lc.close(conns)
    await asyncio.sleep(0.3)
    return _combine(measured)


def _combine(waves: list[Wave]) -> Wave:
    worst = max(waves, key=lambda w: w.p99_ms)
    return Wave(
        n=waves[0].n,
        ok=sum(w.ok for w in waves),
        errors=sum(w.errors for w in waves),
        p50_ms=sorted(w.p50_ms for w in waves)[len(waves) // 2],
        p99_ms=worst.p99_ms,
        cpu_us=sum(w.cpu_us for w in waves) / len(waves),
        rss_idle_mb=min(w.rss_idle_mb for w in waves),
        rss_peak_mb=max(w.rss_peak_mb for w in waves),
        load=worst.load,
        error_sample=next((w.error_sample for w in waves if w.error_sample), ""),
    )


async def largest_keeping_pace(
    probe: Probe, known: dict[int, Wave], limit: float, probes: int = 2
) -> int:
    """The largest concurrency with p99 ≤ `limit` s: the measured levels, then bisection."""
    good = max((n for n, w in known.items() if _keeps(w, limit)), default=0)
    bad = min((n for n, w in known.items() if not _keeps(w, limit) and n > good), default=0)
    for _ in range(probes):
        if not bad or bad - good <= max(100, good // 8):
            break
        middle = (good + bad) // 2 // 100 * 100 or (good + bad) // 2
        wave = await paced_level(probe, middle, waves=1)
        known[middle] = wave
        good, bad = (middle, bad) if _keeps(wave, limit) else (good, middle)
    return good


def _keeps(wave: Wave, limit: float) -> bool:
    return wave.errors == 0 and wave.p99_ms <= limit * 1000


@dataclass
class EventCost:
    """Per-event CPU from two stream lengths: (cpu(long) - cpu(short)) / extra events."""

    path: str
    pattern: str
    per_event_us: float
    per_stream_us: float  # the short stream's whole cost (request overhead included)
    errors: int
    load: Load
    error_sample: str = ""


async def _streams(
    probe: Probe, call: lc.Call, count: int, concurrency: int
) -> tuple[float, int, str]:
    """`count` streams over `concurrency` connections; (CPU s, errors, one error)."""
    conns = await lc.connect(probe.port, concurrency)
    pids = probe.pids()
    errors, sample = 0, ""
    try:
        await asyncio.gather(*(lc.ask(c, call, 60) for c in conns))  # warm the pools
        await _settle(pids)
        before = cpu_seconds(pids)
        per_conn = count // concurrency

        async def run(conn: lc.Conn) -> None:
            nonlocal errors, sample
            for _ in range(per_conn):
                answer = await lc.ask(conn, call, 60)
                if not answer.ok(call):
                    errors += 1
                    sample = sample or _why(answer, call)

        await asyncio.gather(*(run(c) for c in conns))
        await _settle(pids)
        return (cpu_seconds(pids) - before) / (per_conn * concurrency), errors, sample
    finally:
        lc.close(conns)


CallMaker = Callable[[int, int, bool], lc.Call]  # (events, pace ms, burst) -> Call


@dataclass(frozen=True)
class CostShape:
    """How a per-event cost is measured: `streams` of `short` and of `long` events, `at_once`
    at a time; per event = the difference ÷ (long − short)."""

    streams: int
    at_once: int
    short: int
    long: int


PACED_COST = CostShape(80, 20, 10, 210)  # one event per read, 2 ms apart
# many per read costs ~0.5 µs an event: 200k events more in the long phase keep the difference
# well above the CPU clock's noise between two phases (80k gave 0.0-1.5 µs for the same path)
BURST_COST = CostShape(200, 20, 10, 1010)


RESOLUTION_US = 0.1  # a per-event figure under this is inside the CPU clock's noise


def resolved_ratio(value: float, base: float) -> float | None:
    """value ÷ base, or None when base is under what the measurement resolves (a ratio to ~0
    says nothing)."""
    return None if base < RESOLUTION_US else value / base


async def event_cost(probe: Probe, path: str, make: CallMaker, *, burst: bool) -> EventCost:
    """One event per read (PACED_COST, 2 ms apart) or all in one write (BURST_COST)."""
    pace = 0 if burst else 2
    shape = BURST_COST if burst else PACED_COST
    count, concurrency, short, long = shape.streams, shape.at_once, shape.short, shape.long
    meter = probe.interference()
    cpu_short, err_short, why_short = await _streams(
        probe, make(short, pace, burst), count, concurrency
    )
    cpu_long, err_long, why_long = await _streams(
        probe, make(long, pace, burst), count, concurrency
    )
    return EventCost(
        path=path,
        pattern="many events per read" if burst else "one event per read",
        per_event_us=max(0.0, cpu_long - cpu_short) / (long - short) * 1e6,
        per_stream_us=cpu_short * 1e6,
        errors=err_short + err_long,
        load=_load(meter),
        error_sample=why_short or why_long,
    )


async def ttfb_c1(probe: Probe, streams: int = 30) -> tuple[float, float]:
    """(first event p50 ms, first byte p50 ms) at c=1; paced upstream (preamble, then 20 ms)."""
    [conn] = await lc.connect(probe.port, 1)
    call = lc.openai_call(probe.key, "bench-model", 3, PACE_MS)
    firsts: list[float] = []
    heads: list[float] = []
    try:
        await lc.ask(conn, call, 30)
        for _ in range(streams):
            answer = await lc.ask(conn, call, 30)
            if answer.ok(call):
                firsts.append(answer.ttfb_ms)
                heads.append((answer.first_byte - answer.sent) * 1000)
    finally:
        lc.close([conn])
    return percentile(firsts, 50), percentile(heads, 50)


@dataclass
class SoakSample:
    at: float  # seconds since the soak began
    rss_mb: float
    fds: int
    tasks: int
    in_flight: int  # requests the load had open when the sample was taken
    streams: int
    requests: int
    errors: int

    @property
    def spare_tasks(self) -> int:
        """Tasks beyond those of the requests in flight: what a leak would make grow."""
        return self.tasks - self.in_flight


@dataclass
class Soak:
    seconds: float
    samples: list[SoakSample] = field(default_factory=list)
    stream_p99_ms: float = 0.0
    request_p99_ms: float = 0.0
    cpu_us_per_stream: float = 0.0
    load: Load = field(default_factory=Load)
    error_sample: str = ""
    error_kinds: dict[str, int] = field(default_factory=dict)  # "status 502": 3, ...
    # (tasks, fds, idle upstream keep-alive connections among the fds) with no load, before the
    # soak and once its load has drained
    idle_before: tuple[int, int, int] = (0, 0, 0)
    idle_after: tuple[int, int, int] = (0, 0, 0)


class _SoakRun:
    """The soak's three loops: paced streamers, a fixed-rate requester, a sampler."""

    def __init__(self, probe: Probe, seconds: float, counters: tuple[Callable[[], int], ...]):
        self.probe = probe
        self.out = Soak(seconds)
        self.tasks, self.fds = counters
        self.call = lc.openai_call(probe.key, "bench-model", EVENTS, PACE_MS)
        self.plain = lc.plain_call(probe.key, "bench-model")
        self.counts = {"streams": 0, "requests": 0, "errors": 0, "in_flight": 0}
        self.stream_ms: list[float] = []
        self.request_ms: list[float] = []
        self.reopened: list[lc.Conn] = []  # connections opened in place of idle-closed ones
        self.started = time.monotonic()
        self.deadline = self.started + seconds

    def _failed(self, answer: lc.Answer, call: lc.Call) -> None:
        self.counts["errors"] += 1
        self.out.error_sample = self.out.error_sample or _why(answer, call)
        kind = _kind(answer)
        self.out.error_kinds[kind] = self.out.error_kinds.get(kind, 0) + 1

    async def streamer(self, conn: lc.Conn) -> None:
        while time.monotonic() < self.deadline:
            conn = await self._kept_alive(conn, self.call)
            answer = await self._counted(lc.ask(conn, self.call, 60))
            if answer.ok(self.call):
                self.counts["streams"] += 1
                self.stream_ms.append(answer.total_ms)
                continue
            self._failed(answer, self.call)
            await asyncio.sleep(0.1)  # a gateway that refuses is not hammered

    async def _kept_alive(self, conn: lc.Conn, call: lc.Call) -> lc.Conn:
        """A connection the gateway closed (or will close) for idleness is replaced, not counted
        as an error: every client's pool does the same."""
        try:
            kept = await lc.kept_alive(conn, self.probe.port)
        except OSError as exc:
            self._failed(lc.Answer(error=f"reconnect failed: {exc!r}"), call)
            return conn
        if kept is not conn:
            self.reopened.append(kept)
        return kept

    async def _counted(self, asking: Awaitable[lc.Answer]) -> lc.Answer:
        self.counts["in_flight"] += 1
        try:
            return await asking
        finally:
            self.counts["in_flight"] -= 1

    async def _one(self, conn: lc.Conn, idle: list[lc.Conn]) -> None:
        conn = await self._kept_alive(conn, self.plain)
        answer = await self._counted(lc.ask(conn, self.plain, 30))
        if answer.ok(self.plain):
            self.counts["requests"] += 1
            self.request_ms.append(answer.total_ms)
        else:
            self._failed(answer, self.plain)
        if conn.transport is not None:
            idle.append(conn)

    async def requester(self, conns: list[lc.Conn], rate: float) -> None:
        idle, sent = list(conns), 0
        loop = asyncio.get_running_loop()
        running: set[asyncio.Task[None]] = set()
        while time.monotonic() < self.deadline:
            due = int((time.monotonic() - self.started) * rate)
            while sent < due and idle:
                task = loop.create_task(self._one(idle.pop(), idle))
                running.add(task)
                task.add_done_callback(running.discard)
                sent += 1
            await asyncio.sleep(0.005)

    async def sampler(self) -> None:
        while time.monotonic() < self.deadline:
            await asyncio.sleep(min(10.0, max(0.1, self.deadline - time.monotonic())))
            self.out.samples.append(
                SoakSample(
                    round(time.monotonic() - self.started),
                    rss_mb(self.probe.pids()),
                    self.fds(),
                    self.tasks(),
                    self.counts["in_flight"],
                    self.counts["streams"],
                    self.counts["requests"],
                    self.counts["errors"],
                )
            )


async def soak(
    probe: Probe,
    seconds: float,
    tasks: Callable[[], int],
    fds: Callable[[], int],
    streams: int = 500,
    rate: float = 200.0,
) -> Soak:
    """`streams` paced streams open at all times plus `rate` non-stream requests per second."""
    stream_conns = await lc.connect(probe.port, streams)
    plain_conns = await lc.connect(probe.port, 64)
    run = _SoakRun(probe, seconds, (tasks, fds))
    meter = probe.interference()
    cpu_before = cpu_seconds(probe.pids())
    try:
        await asyncio.gather(
            *(run.streamer(c) for c in stream_conns),
            run.requester(plain_conns, rate),
            run.sampler(),
        )
    finally:
        lc.close(stream_conns + plain_conns + run.reopened)
    out = run.out
    spent = cpu_seconds(probe.pids()) - cpu_before
    out.cpu_us_per_stream = spent / max(1, run.counts["streams"]) * 1e6  # non-stream share in
    out.stream_p99_ms = percentile(run.stream_ms, 99)
    out.request_p99_ms = percentile(run.request_ms, 99)
    out.load = _load(meter)
    return out
