"""Markdown for the paced / burst / soak scenarios: every figure beside nginx and direct."""

from __future__ import annotations

from collections.abc import Sequence

import scenarios as sc
import workers_report
from scale import LEVELS, PACE_LIMIT, Report
from targets import FLOOR

ORDER = ("direct", "nginx", FLOOR, "gateway")
RESOLUTION_US = sc.RESOLUTION_US


def _x(value: float, base: float | None) -> str:
    """value ÷ base; "–" when there is no base or it is too small to divide by."""
    ratio = None if base is None else sc.resolved_ratio(value, base)
    return "–" if ratio is None else f"{ratio:.2f}×"


def _names(found: Sequence[str]) -> list[str]:
    return [n for n in ORDER if n in found]


def non_stream(report: Report) -> list[str]:
    names = _names(list(report.cpu_req_us))
    if not names:
        return []
    nginx = report.cpu_req_us.get("nginx")
    lines = ["| target | CPU µs per request (wrk c=50, 3 s) | × nginx | load while measured |"]
    lines.append("|---|---|---|---|")
    for name in names:
        value = report.cpu_req_us[name]
        lines.append(
            f"| {name} | {value:,.0f} | {_x(value, nginx)} | {report.req_load[name].text()} |"
        )
    return lines


def ttfb(report: Report) -> list[str]:
    names = _names(list(report.ttfb))
    if not names:
        return []
    direct = report.ttfb.get("direct", (0.0, 0.0))[0]
    lines = [
        "Paced upstream (preamble with the headers, then an event every 20 ms), 30 streams at "
        "c=1, OpenAI passthrough; time from sending the request to the first SSE event, and to "
        "the response head.",
        "",
        "| target | first event p50, ms | added vs direct, ms | response head p50, ms |",
        "|---|---|---|---|",
    ]
    for name in names:
        first, head = report.ttfb[name]
        lines.append(f"| {name} | {first:.3f} | {first - direct:+.3f} | {head:.3f} |")
    return lines


def paced(report: Report) -> list[str]:
    names = _names(list(report.waves))
    if not names:
        return []
    lines = [
        f"N concurrent streams × {sc.EVENTS} events × {sc.PACE_MS} ms (ideal {sc.IDEAL_S:g} s), "
        "started together; one warm-up wave, then 2 measured waves at N=100 and 1,000 and one at "
        "the other levels (CPU averaged, p99 the worse). CPU µs per stream = the target's CPU "
        "time over the wave (its processes' CPU clocks, all threads) ÷ N. Peak RSS "
        "= VmHWM during the measured waves (reset first); KB/stream = (peak − idle) ÷ N.",
        "",
        "| N | target | p50 s | p99 s | errors | CPU µs/stream | CPU × nginx | peak RSS MB | "
        "KB/stream | load while measured |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in sorted({n for waves in report.waves.values() for n in waves}):
        nginx = report.waves.get("nginx", {}).get(n)
        for name in names:
            wave = report.waves[name].get(n)
            if wave is None:
                continue
            base = nginx.cpu_us if nginx else None
            lines.append(
                f"| {n:,} | {name} | {wave.p50_ms / 1000:.2f} | {wave.p99_ms / 1000:.2f} | "
                f"{wave.errors} | {wave.cpu_us:,.0f} | {_x(wave.cpu_us, base)} | "
                f"{wave.rss_peak_mb:.0f} | {wave.kb_per_stream:.1f} | {wave.load.text()} |"
            )
    lines += [
        "",
        f"Largest N with p99 ≤ {PACE_LIMIT:g} s and no errors (levels {LEVELS} then bisection):",
        "",
    ]
    lines += [f"- {name}: {report.largest[name]:,}" for name in names if name in report.largest]
    lines += floor_lines(report)
    samples = [
        f"- {name} N={n}: {w.error_sample[:300]}"
        for name in names
        for n, w in report.waves[name].items()
        if w.error_sample
    ]
    if samples:
        lines += ["", "First error per level:", "", *samples]
    return lines


def burst(report: Report) -> list[str]:
    if not report.costs:
        return []
    paced, burst = sc.PACED_COST, sc.BURST_COST
    lines = [
        "CPU per relayed event = (CPU of long streams − CPU of short streams) ÷ the events "
        "between them, so the per-request cost drops out. *One event per read*: events 2 ms "
        f"apart, {paced.streams} streams of {paced.short} and of {paced.long} events, "
        f"{paced.at_once} at a time. *Many per read*: the upstream writes the whole stream at "
        f"once, {burst.streams} streams of {burst.short} and of {burst.long} events, "
        f"{burst.at_once} at a time. A ratio to a passthrough figure under {RESOLUTION_US} µs "
        "is not resolved (–).",
        "",
        "| path | pattern | target | µs per event | × passthrough (gateway) | × nginx | CPU µs per "
        "10-event stream | errors | load while measured |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    base = {
        (c.pattern, name): c.per_event_us for name, c in report.costs if c.path.startswith("pass")
    }
    for name, cost in report.costs:
        through = base.get((cost.pattern, "gateway"))
        nginx = base.get((cost.pattern, "nginx"))
        lines.append(
            f"| {cost.path} | {cost.pattern} | {name} | {cost.per_event_us:.1f} | "
            f"{_x(cost.per_event_us, through) if name == 'gateway' else '–'} | "
            f"{_x(cost.per_event_us, nginx)} | {cost.per_stream_us:,.0f} | {cost.errors} | "
            f"{cost.load.text()} |"
        )
    return lines


def soak(report: Report) -> list[str]:
    found = report.soak
    if found is None or not found.samples:
        return []
    lines = [
        f"Gateway only, {found.seconds:g} s: 500 paced streams (50 × 20 ms) open at all times "
        "plus 200 non-stream requests/s. RSS = VmRSS; fds = /proc/<pid>/fd; tasks = "
        "`len(asyncio.all_tasks())` on the gateway's loop (bench/octopus_probe.py, written "
        "once a second). The soak runs in a gateway process of its own, started for it.",
        "",
        f"Stream p99 {found.stream_p99_ms / 1000:.2f} s, non-stream p99 "
        f"{found.request_p99_ms:.1f} ms, CPU µs per stream (non-stream share included) "
        f"{found.cpu_us_per_stream:,.0f}; {found.load.text()}.",
        "",
        "| at s | RSS MB | fds | tasks | requests in flight | streams done | requests done | "
        "errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines.extend(
        f"| {s.at:.0f} | {s.rss_mb:.1f} | {s.fds} | {s.tasks} | {s.in_flight} | {s.streams:,} | "
        f"{s.requests:,} | {s.errors} |"
        for s in found.samples
    )
    if found.error_sample:
        kinds = ", ".join(f"{kind} × {count}" for kind, count in sorted(found.error_kinds.items()))
        lines += ["", f"Errors: {kinds}. First error: {found.error_sample[:300]}"]
    return lines


def soak_verdict(found: sc.Soak) -> tuple[str, bool]:
    """RSS within ±10 % of the 1-minute value; fds no higher at the end than at 1 minute (same
    load); once the load has drained, tasks and fds back to their idle counts (within 5), not
    counting the upstream keep-alive connections the pool keeps (closed after 60 s idle)."""
    first = next((s for s in found.samples if s.at >= 60), None)
    last = found.samples[-1] if found.samples else None
    if first is None or last is None or first is last:
        return "soak too short for a verdict", False
    spread = max(abs(s.rss_mb - first.rss_mb) / first.rss_mb for s in found.samples if s.at >= 60)
    (tasks_before, fds_before, pool_before) = found.idle_before
    (tasks_after, fds_after, pool_after) = found.idle_after
    ok = spread <= 0.10 and last.fds <= first.fds + 5 and tasks_after <= tasks_before + 5
    ok = ok and fds_after - pool_after <= fds_before - pool_before + 5
    text = (
        f"RSS {first.rss_mb:.1f} MB at {first.at:.0f} s → {last.rss_mb:.1f} MB at {last.at:.0f} s "
        f"(max deviation {spread * 100:.1f} %); under load fds {first.fds} → {last.fds}, tasks "
        f"beyond the requests in flight {first.spare_tasks} → {last.spare_tasks}; idle before → "
        f"after: tasks {tasks_before} → {tasks_after}, fds {fds_before} → {fds_after} (of which "
        f"pooled upstream keep-alive connections {pool_before} → {pool_after})"
    )
    return text, ok


def floor_lines(report: Report) -> list[str]:
    """The gateway beside the Python floor: what is its own work, what is Python's price."""
    floor, gw = report.waves.get(FLOOR, {}), report.waves.get("gateway", {})
    nginx = report.waves.get("nginx", {})
    shared = [n for n in sorted(floor) if n in gw and n in nginx]
    if not shared:
        return []
    lines = [
        "",
        f"`{FLOOR}` is `bench/floor_proxy.py`: a uvloop + httptools proxy that relays the bytes "
        "as they came (one parse and one write per read), without any gateway work. Its cost "
        "above nginx's is what Python and its event loop cost on this path; the gateway's cost "
        "above it is the gateway's own work per stream:",
        "",
    ]
    for n in shared:
        base, own = floor[n].cpu_us, gw[n].cpu_us - floor[n].cpu_us
        lines.append(
            f"- N={n:,}: {FLOOR} {base:,.0f} µs/stream = {_x(base, nginx[n].cpu_us)} nginx; "
            f"gateway {gw[n].cpu_us:,.0f} µs/stream, {own:,.0f} µs of it above the floor"
        )
    return lines


def _row(what: str, wanted: str, measured: str, passed: bool | None) -> str:
    verdict = "–" if passed is None else ("**pass**" if passed else "**FAIL**")
    return f"| {what} | {wanted} | {measured} | {verdict} |"


def targets(report: Report) -> list[str]:
    """Issue 13's targets, each with the figure it was judged on."""
    rows = ["| target (gateway, one core) | wanted | measured | result |", "|---|---|---|---|"]
    gw, ng = report.waves.get("gateway", {}), report.waves.get("nginx", {})
    for n in (1000, 100):
        if n in gw and n in ng:
            ratio = gw[n].cpu_us / ng[n].cpu_us if ng[n].cpu_us else 0.0
            rows.append(
                _row(
                    f"CPU per stream at N={n:,}",
                    "≤ 1.5× nginx",
                    f"{gw[n].cpu_us:,.0f} µs = {ratio:.2f}× nginx ({ng[n].cpu_us:,.0f} µs)",
                    ratio <= 1.5,
                )
            )
    if 1000 in gw:
        wave = gw[1000]
        rows.append(
            _row("p99 at N=1,000", "≤ 1.5 s", f"{wave.p99_ms / 1000:.2f} s", wave.p99_ms <= 1500)
        )
        errors = sum(w.errors for w in gw.values())
        rows.append(_row("errors (all paced levels)", "0", str(errors), errors == 0))
        rows.append(
            _row(
                "peak RSS at N=1,000",
                "≤ 120 MB and ≤ 50 KB per stream above idle",
                f"{wave.rss_peak_mb:.0f} MB, {wave.kb_per_stream:.1f} KB/stream",
                wave.rss_peak_mb <= 120 and wave.kb_per_stream <= 50,
            )
        )
    if "gateway" in report.largest:
        rows.append(
            _row(
                "largest N with p99 ≤ 1.5 s",
                "report",
                f"{report.largest['gateway']:,} (nginx {report.largest.get('nginx', 0):,}, "
                f"direct {report.largest.get('direct', 0):,})",
                None,
            )
        )
    rows += _cost_rows(report)
    if "gateway" in report.cpu_req_us:
        value = report.cpu_req_us["gateway"]
        rows.append(
            _row("non-stream CPU per request", "≤ 200 µs", f"{value:,.0f} µs", value <= 200)
        )
    if "gateway" in report.ttfb and "direct" in report.ttfb:
        added = report.ttfb["gateway"][0] - report.ttfb["direct"][0]
        rows.append(
            _row("added TTFB p50 at c=1, paced", "≤ 1 ms", f"{added:+.3f} ms", added <= 1.0)
        )
    if report.soak is not None:
        text, ok = soak_verdict(report.soak)
        rows.append(_row("soak: RSS ±10 % of the 1-min value, no fd/task growth", "hold", text, ok))
    rows += [_row(*found) for found in workers_report.target_rows(report.workers)]
    return rows


def _cost_rows(report: Report) -> list[str]:
    rows: list[str] = []
    gateway = [c for name, c in report.costs if name == "gateway"]
    for pattern in ("one event per read", "many events per read"):
        through = next(
            (c for c in gateway if c.pattern == pattern and c.path.startswith("pass")), None
        )
        if through is None:
            continue
        value = through.per_event_us
        rows.append(
            _row(f"passthrough µs/event, {pattern}", "≤ 15 µs", f"{value:.1f} µs", value <= 15)
        )
        others = (c for c in gateway if c.pattern == pattern and c is not through)
        rows.extend(_ratio_row(cost, value, pattern) for cost in others)
    return rows


def _ratio_row(cost: sc.EventCost, passthrough: float, pattern: str) -> str:
    """A converted path against passthrough; no verdict when passthrough is below what the
    measurement resolves."""
    what, wanted = f"{cost.path}, {pattern}", "≤ 1.5× passthrough"
    ratio = sc.resolved_ratio(cost.per_event_us, passthrough)
    if ratio is None:
        measured = f"{cost.per_event_us:.1f} µs; passthrough {passthrough:.2f} µs, not resolved"
        return _row(what, wanted, measured, None)
    return _row(what, wanted, f"{cost.per_event_us:.1f} µs = {ratio:.2f}×", ratio <= 1.5)


def history_text(report: Report) -> str:
    """The figures a history line keeps."""
    parts: list[str] = []
    gw, ng = report.waves.get("gateway", {}), report.waves.get("nginx", {})
    if 1000 in gw:
        nginx = f" ({gw[1000].cpu_us / ng[1000].cpu_us:.2f}× nginx)" if 1000 in ng else ""
        parts.append(
            f"N=1,000 paced: {gw[1000].cpu_us:,.0f} CPU µs/stream{nginx}, p99 "
            f"{gw[1000].p99_ms / 1000:.2f} s, {gw[1000].rss_peak_mb:.0f} MB"
        )
    floor = report.waves.get(FLOOR, {})
    if 1000 in floor and 1000 in ng:
        parts.append(f"{FLOOR} {floor[1000].cpu_us / ng[1000].cpu_us:.2f}× nginx at N=1,000")
    if "gateway" in report.largest:
        parts.append(f"largest N in pace {report.largest['gateway']:,}")
    through = [c for n, c in report.costs if n == "gateway" and c.path.startswith("pass")]
    if through:
        parts.append(
            "passthrough " + " / ".join(f"{c.per_event_us:.1f}" for c in through) + " µs/event"
        )
    if "gateway" in report.cpu_req_us:
        parts.append(f"non-stream {report.cpu_req_us['gateway']:,.0f} CPU µs/req")
    if "gateway" in report.ttfb and "direct" in report.ttfb:
        parts.append(f"TTFB +{report.ttfb['gateway'][0] - report.ttfb['direct'][0]:.2f} ms")
    if report.soak is not None:
        parts.append("soak " + soak_verdict(report.soak)[0])
    if text := workers_report.history(report.workers):
        parts.append(text)
    return "; ".join(parts)
