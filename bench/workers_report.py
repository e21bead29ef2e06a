"""Markdown for the workers scenario: CPU per request with workers and shared state, slow Redis."""

from __future__ import annotations

from workers import LATE_MS, ROUNDS, SECONDS, TWO_APART, TWO_SHARED, Figures

BOUND = 1.10  # issue 11: CPU per request grows by at most 10 % with the shared state on
ADDED_P99_MS = 50.0  # issue 11: what a slow Redis may add at p99
BASE = "1 worker"


def section(found: Figures | None) -> list[str]:
    if found is None:
        return []
    lines = [f"- **Note**: {note}" for note in found.notes]
    if found.rows:
        lines += _rows(found)
    if found.slow:
        lines += ["", *_slow(found)]
    return lines


def _rows(found: Figures) -> list[str]:
    base = found.row(BASE)
    lines = [
        f"Gateway CPU (supervisor + workers, their CPU clocks) over wrk c=50 rounds ({ROUNDS} × "
        f"{SECONDS:g} s, medians), all on one core; every request checks an RPM limit and takes "
        "a round-robin turn (with Redis: two scripts per request). Redis CPU is the shared "
        "server's (other work on the machine may add to it).",
        "",
        "| gateway | CPU µs per request | req per CPU-second | × 1 worker | req/s (one core) | "
        "Redis CPU µs/req | c=1 p50 / p99 | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in found.rows:
        ratio = f"{row.cpu_us / base.cpu_us:.2f}×" if base and base.cpu_us else "–"
        redis = "–" if row.redis_us is None else f"{row.redis_us:,.0f}"
        lines.append(
            f"| {row.name} | {row.cpu_us:,.0f} | {row.per_cpu_second:,.0f} | {ratio} | "
            f"{row.rps:,.0f} | {redis} | {row.c1.p50_ms:.2f} / {row.c1.p99_ms:.2f} ms | "
            f"{row.errors} |"
        )
    return lines


def _slow(found: Figures) -> list[str]:
    lines = [
        f"Slow Redis: tests/fakes/slow_tcp.py between a 1-worker gateway and Redis passes replies "
        f"at once, {LATE_MS} ms late, or never; one request at a time for {SECONDS:g} s "
        "(every latency kept). Each Redis call on the request path waits at most 50 ms, then the "
        "process uses local state for 1 s: about one request a second pays the 50 ms.",
        "",
        "| Redis | p50 | p99 | p99 added | slowest | over 50 ms | requests | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    base = found.slow[0][1]
    for name, got in found.slow:
        added = "–" if got is base else f"{got.p99_ms - base.p99_ms:+.2f} ms"
        lines.append(
            f"| {name} | {got.p50_ms:.2f} ms | {got.p99_ms:.2f} ms | {added} | "
            f"{got.max_ms:.1f} ms | {got.over_50ms} | {got.requests:,} | {got.errors} |"
        )
    return lines


def target_rows(found: Figures | None) -> list[tuple[str, str, str, bool | None]]:
    """(what, wanted, measured, passed) for issue 11's bounds."""
    if found is None:
        return []
    rows: list[tuple[str, str, str, bool | None]] = []
    base = found.row(BASE)
    apart = found.row(TWO_APART)
    for row in found.rows:
        if base is None or row is base or not base.cpu_us:
            continue
        ratio = row.cpu_us / base.cpu_us
        bounded = row is not apart  # a second process without shared state: reported, no bound
        rows.append(
            (
                f"CPU per request, {row.name} vs 1 worker",
                f"≤ {BOUND:.2f}×" if bounded else "report",
                f"{row.cpu_us:,.0f} µs = {ratio:.2f}× ({base.cpu_us:,.0f} µs)",
                ratio <= BOUND if bounded else None,
            )
        )
    shared = found.row(TWO_SHARED)
    if apart is not None and shared is not None and apart.cpu_us:
        ratio = shared.cpu_us / apart.cpu_us
        rows.append(
            (
                f"CPU per request, {TWO_SHARED} vs {TWO_APART} (the shared state's own cost)",
                f"≤ {BOUND:.2f}×",
                f"{shared.cpu_us:,.0f} µs = {ratio:.2f}× ({apart.cpu_us:,.0f} µs)",
                ratio <= BOUND,
            )
        )
    if found.slow:
        base = found.slow[0][1]
        for name, got in found.slow[1:]:
            added = got.p99_ms - base.p99_ms
            ok = added <= ADDED_P99_MS and got.errors == 0
            measured = f"{added:+.2f} ms (slowest {got.max_ms:.0f} ms)"
            rows.append(
                (f"p99 added, Redis {name}", f"≤ {ADDED_P99_MS:g} ms, no errors", measured, ok)
            )
    return rows


def history(found: Figures | None) -> str:
    if found is None or not found.rows:
        return ""
    text = "workers " + ", ".join(f"{r.name} {r.cpu_us:,.0f}" for r in found.rows) + " CPU µs/req"
    if len(found.slow) > 1:
        worst = max(got.p99_ms for _, got in found.slow[1:]) - found.slow[0][1].p99_ms
        text += f"; slow Redis p99 {worst:+.1f} ms"
    return text
