"""Turn per-round samples into medians, ratios, pass/fail against the targets, and RESULTS.md."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

Sample = dict[str, float]
Table = dict[str, Sample]  # target name -> metric -> median
GATEWAY = "gateway"
NOLOG = "gateway-nolog"
HISTORY = "## History"


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    fmt: str
    ratios: bool = True  # a ratio to nginx/direct means something


ROWS = (
    Row("rps", "non-stream req/s, c=50", "{:,.0f}"),
    Row("c50_p50", "non-stream latency p50 at c=50, ms", "{:.2f}"),
    Row("c50_p99", "non-stream latency p99 at c=50, ms", "{:.2f}"),
    Row("c1_p50", "non-stream latency p50 at c=1, ms", "{:.3f}"),
    Row("c1_p99", "non-stream latency p99 at c=1, ms", "{:.3f}"),
    Row("added_p50", "added latency p50 at c=1 vs direct, ms", "{:+.3f}", ratios=False),
    Row("added_p99", "added latency p99 at c=1 vs direct, ms", "{:+.3f}", ratios=False),
    Row("added_ng_p50", "added latency p50 at c=1 vs nginx, ms", "{:+.3f}", ratios=False),
    Row("cpu_req_us", "CPU µs per non-stream request (target processes)", "{:,.0f}"),
    Row("rps_core", "non-stream req/s per CPU-second (1e6 ÷ CPU µs)", "{:,.0f}"),
    Row("s1_ttfb", "stream TTFB p50 at c=1, ms", "{:.3f}"),
    Row("s1_total", "stream total p50 at c=1 (100 chunks), ms", "{:.3f}"),
    Row("sps", "streams/s at c=50 (100 chunks)", "{:,.0f}"),
    Row("s50_ttfb_p50", "stream TTFB p50 at c=50, ms", "{:.2f}"),
    Row("s50_ttfb_p99", "stream TTFB p99 at c=50, ms", "{:.2f}"),
    Row("s50_total_p50", "stream total p50 at c=50, ms", "{:.2f}"),
    Row("s50_total_p99", "stream total p99 at c=50, ms", "{:.2f}"),
    Row("cpu_stream_us", "CPU µs per stream (target processes)", "{:,.0f}"),
    Row("sps_core", "streams/s per CPU-second (1e6 ÷ CPU µs)", "{:,.0f}"),
    Row("rss_mb", "peak RSS incl. start-up and admin login, MB (VmHWM)", "{:.1f}"),
    Row("rss_load_mb", "peak RSS during the rounds, MB (VmHWM reset after start-up)", "{:.1f}"),
    Row("errors", "errors (all phases, all rounds)", "{:.0f}", ratios=False),
)


@dataclass(frozen=True)
class Check:
    name: str
    wanted: str
    measured: str
    passed: bool
    estimate: str = "–"  # the same from CPU time: what one dedicated core would do


def medians(rounds: Mapping[str, Sequence[Sample]]) -> Table:
    """Median of every metric over the rounds; errors are summed, added latency derived."""
    table: Table = {}
    for name, samples in rounds.items():
        keys = {key for sample in samples for key in sample}
        table[name] = {key: statistics.median(s[key] for s in samples if key in s) for key in keys}
        table[name]["errors"] = sum(s.get("errors", 0.0) for s in samples)
    for sample in table.values():
        for cost, rate in (("cpu_req_us", "rps_core"), ("cpu_stream_us", "sps_core")):
            if sample.get(cost):
                sample[rate] = 1e6 / sample[cost]
    for base, prefix in (("direct", "added"), ("nginx", "added_ng")):
        reference = table.get(base, {})
        for name, sample in table.items():
            for pct in ("p50", "p99"):
                key = f"c1_{pct}"
                if key in sample and key in reference and (name != "direct" or base == name):
                    sample[f"{prefix}_{pct}"] = sample[key] - reference[key]
    return table


def _ratio(table: Table, name: str, other: str, key: str) -> float | None:
    value, base = table.get(name, {}).get(key), table.get(other, {}).get(key)
    if value is None or not base:
        return None
    return value / base


def checks(table: Table) -> list[Check]:
    """The issue's targets for the gateway (logging on) and the logging-cost bound."""
    gw = table.get(GATEWAY)
    if gw is None:
        return []
    sps_x = _ratio(table, GATEWAY, "nginx", "sps") or 0.0
    core_x = gw.get("sps_core", 0.0) / (table.get("nginx", {}).get("sps") or 1.0)
    found = [
        Check(
            "non-stream req/s at c=50",
            "≥ 1,500",
            f"{gw['rps']:,.0f}",
            gw["rps"] >= 1500,
            f"{gw.get('rps_core', 0):,.0f} req/s per CPU-second",
        ),
        Check(
            "added p50 at c=1",
            "≤ 1.000 ms",
            f"{gw.get('added_p50', float('nan')):.3f} ms",
            gw.get("added_p50", 99.0) <= 1.0,
            f"{gw.get('added_ng_p50', float('nan')):.3f} ms over nginx",
        ),
        Check(
            "streams/s vs nginx",
            "≥ 0.80×",
            f"{sps_x:.2f}×",
            sps_x >= 0.8,
            f"{gw.get('sps_core', 0):,.0f} streams/s per CPU-second = {core_x:.2f}× nginx",
        ),
        Check(
            "peak RSS (whole process life)",
            "≤ 120 MB",
            f"{gw.get('rss_mb', 0):.1f} MB",
            0 < gw.get("rss_mb", 0) <= 120,
            f"{gw.get('rss_load_mb', 0):.1f} MB during the rounds",
        ),
        Check("errors", "0", f"{gw['errors']:.0f}", gw["errors"] == 0),
    ]
    return found + _logging_checks(table)


def _logging_checks(table: Table) -> list[Check]:
    if NOLOG not in table:
        return []
    found = []
    for key, cost, label in (
        ("rps", "cpu_req_us", "non-stream req/s"),
        ("sps", "cpu_stream_us", "streams/s"),
    ):
        kept = _ratio(table, GATEWAY, NOLOG, key) or 0.0
        by_cpu = _ratio(table, NOLOG, GATEWAY, cost) or 0.0
        found.append(
            Check(
                f"{label}, logging on ÷ off",
                "≥ 0.90×",
                f"{kept:.2f}×",
                kept >= 0.9,
                f"{by_cpu:.2f}× (CPU per unit off ÷ on)",
            )
        )
    return found


def _cell(value: float | None, fmt: str) -> str:
    return "–" if value is None else fmt.format(value)


def metrics_table(table: Table, names: Sequence[str]) -> list[str]:
    gws = [n for n in (GATEWAY, NOLOG) if n in table]
    head = ["metric", *names] + [f"{g} ÷ {b}" for g in gws for b in ("nginx", "direct")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in ROWS:
        cells = [_cell(table[n].get(row.key), row.fmt) for n in names]
        for g in gws:
            for base in ("nginx", "direct"):
                ratio = _ratio(table, g, base, row.key) if row.ratios else None
                cells.append(_cell(ratio, "{:.2f}×"))
        lines.append("| " + " | ".join([row.label, *cells]) + " |")
    return lines


def checks_table(found: Sequence[Check]) -> list[str]:
    lines = [
        "| target (gateway, logging on) | wanted | measured | result | from CPU time |",
        "|---|---|---|---|---|",
    ]
    for c in found:
        verdict = "**pass**" if c.passed else "**FAIL**"
        lines.append(f"| {c.name} | {c.wanted} | {c.measured} | {verdict} | {c.estimate} |")
    return lines


def history_line(table: Table, found: Sequence[Check], stamp: str) -> str:
    gw = table.get(GATEWAY)
    if gw is None:
        return f"- {stamp}: gateway not measured"
    verdict = (
        "all targets pass"
        if all(c.passed for c in found)
        else "FAIL: " + ", ".join(c.name for c in found if not c.passed)
    )
    sps_x = _ratio(table, GATEWAY, "nginx", "sps") or 0.0
    return (
        f"- {stamp}: {gw['rps']:,.0f} req/s, +{gw.get('added_p50', 0):.3f} ms p50 at c=1, "
        f"{gw['sps']:,.0f} streams/s ({sps_x:.2f}× nginx), "
        f"{gw.get('rss_mb', 0):.0f} MB peak — {verdict}"
    )


def old_history(path: Path) -> list[str]:
    try:
        text = path.read_text()
    except OSError:
        return []
    if HISTORY not in text:
        return []
    return [line for line in text.split(HISTORY, 1)[1].splitlines() if line.startswith("- ")]


def render(
    sections: Sequence[tuple[str, Sequence[str]]], history: Sequence[str], limit: int = 30
) -> str:
    out: list[str] = ["# Relay benchmark results", ""]
    for title, lines in sections:
        if title:
            out += [f"## {title}", ""]
        out += [*lines, ""]
    out += [HISTORY, "", "Newest first; one line per `make bench` run.", "", *history[:limit], ""]
    return "\n".join(out)


def per_round(rounds: Mapping[str, Sequence[Sample]]) -> list[str]:
    """The spread behind the medians, and how busy other processes kept each CPU per round."""
    columns = (
        ("req/s", "rps", "{:,.0f}"),
        ("streams/s", "sps", "{:,.0f}"),
        ("others on load CPU %", "foreign_load", "{:.0f}"),
        ("others on proxy CPU %", "foreign_target", "{:.0f}"),
    )
    lines = ["| target | " + " | ".join(c[0] for c in columns) + " |", "|---|" + "---|" * 4]
    for name, samples in rounds.items():
        cells = [
            " / ".join(fmt.format(s[key]) if key in s else "–" for s in samples)
            for _, key, fmt in columns
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines
