"""Prometheus metrics: a record sink that counts requests (served by `web.metrics` at `/metrics`).

Everything lives in a private CollectorRegistry. `finished()` only adds to plain dictionaries
(prometheus_client's metric objects take a lock per update, about nine per request); the
tallies, queue depth, drops and member cooldowns become metric families at scrape time.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from octopus.records.request import Attempt, RequestRecord
from octopus.routing.health import MemberHealth

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
FIRST_TOKEN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
UNKNOWN_GROUP = "unknown"  # clients choose model names: only configured groups become labels
TOKEN_KINDS = ("input", "output", "cache_read", "cache_write", "reasoning")
Tally = dict[tuple[str, ...], float]  # label values -> running total


class Histograms:
    """Observations per label value: a count per bucket (the last one past every bound) and
    a sum; exposed cumulative, as Prometheus wants."""

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.series: dict[str, tuple[list[int], list[float]]] = {}

    def observe(self, label: str, value: float) -> None:
        series = self.series.get(label)
        if series is None:
            series = self.series[label] = ([0] * (len(self.bounds) + 1), [0.0])
        series[0][bisect_left(self.bounds, value)] += 1  # `le`: a value on a bound counts in it
        series[1][0] += value

    def family(self, name: str, text: str, label: str) -> HistogramMetricFamily:
        family = HistogramMetricFamily(name, text, labels=[label])
        edges = [repr(float(bound)) for bound in self.bounds] + ["+Inf"]  # as the client lib
        for value, (counts, total) in self.series.items():
            running, buckets = 0, []
            for edge, count in zip(edges, counts, strict=True):
                running += count
                buckets.append((edge, float(running)))
            family.add_metric([value], buckets, total[0])
        return family


class WriterState(Protocol):
    """What the batch writer reports (store.writer.BatchWriter satisfies it)."""

    @property
    def pending(self) -> int: ...
    @property
    def dropped(self) -> int: ...
    @property
    def written(self) -> int: ...
    @property
    def write_errors(self) -> int: ...
    @property
    def bodies_dropped(self) -> int: ...


def error_class(attempt: Attempt) -> str:
    """A coarse, bounded class for an upstream failure."""
    status = attempt.status
    if attempt.outcome == "canceled":
        return "canceled"
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    if status >= 400:
        return "client_error"
    if status == 0:
        text = attempt.error.lower()
        return "timeout" if "timeout" in text or "timed out" in text else "connect"
    return "in_band"  # a 2xx whose first event was an error


class GatewayMetrics:
    """A RecordSink tallying requests, tokens, cost, latencies and upstream errors."""

    def __init__(self, writer: WriterState | None = None, health: MemberHealth | None = None):
        self.registry = CollectorRegistry(auto_describe=True)
        self.in_flight = 0
        self.requests: Tally = {}  # group, channel, status
        self.tokens: Tally = {}  # group, channel, kind
        self.cost: Tally = {}  # group, channel
        self.upstream_errors: Tally = {}  # channel, class
        self.duration = Histograms(LATENCY_BUCKETS)
        self.first_token = Histograms(FIRST_TOKEN_BUCKETS)
        self._state = _StateCollector(writer, health)
        self.registry.register(_TallyCollector(self))
        self.registry.register(self._state)

    def watch_health(self, health: MemberHealth) -> None:
        """Export member cooldowns from the relay's routing state (set once the relay exists)."""
        self._state.health = health

    def started(self, record: RequestRecord) -> None:
        self.in_flight += 1

    def finished(self, record: RequestRecord) -> None:
        self.in_flight -= 1
        group = record.requested_model if record.group_id else UNKNOWN_GROUP
        channel = record.channel_name or "none"
        _add(self.requests, (group, channel, record.status), 1)
        self.duration.observe(group, record.duration_ms / 1000)
        if record.first_token_ms is not None:
            self.first_token.observe(group, record.first_token_ms / 1000)
        usage = record.usage
        values = (usage.input, usage.output, usage.cache_read, usage.cache_write, usage.reasoning)
        for kind, value in zip(TOKEN_KINDS, values, strict=True):
            if value > 0:
                _add(self.tokens, (group, channel, kind), value)
        total = record.cost.total
        if total > 0:
            _add(self.cost, (group, channel), total)
        for attempt in record.attempts:
            if attempt.outcome in ("failed", "rejected"):
                _add(self.upstream_errors, (attempt.channel_name, error_class(attempt)), 1)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _add(tally: Tally, key: tuple[str, ...], value: float) -> None:
    tally[key] = tally.get(key, 0.0) + value


def _counter(
    name: str, text: str, labels: list[str], tally: dict[tuple[str, ...], float]
) -> Metric:
    family = CounterMetricFamily(name, text, labels=labels)
    for values, count in tally.items():
        family.add_metric(list(values), count)
    return family


class _TallyCollector(Collector):
    def __init__(self, metrics: GatewayMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self._metrics
        where = ["group", "channel"]
        yield _counter(
            "octopus_requests", "Client requests by group, final channel and status",
            [*where, "status"], m.requests,
        )  # fmt: skip
        yield GaugeMetricFamily("octopus_requests_in_flight", "Requests being relayed", m.in_flight)
        yield m.duration.family(
            "octopus_request_duration_seconds", "Whole request duration", "group"
        )
        yield m.first_token.family(
            "octopus_first_token_seconds", "Time to the first token sent to the client", "group"
        )
        yield _counter(
            "octopus_tokens", "Tokens by group, channel and kind", [*where, "kind"], m.tokens
        )
        yield _counter("octopus_cost_usd", "Cost in USD by group and channel", where, m.cost)
        yield _counter(
            "octopus_upstream_errors", "Failed upstream attempts by channel and class",
            ["channel", "class"], m.upstream_errors,
        )  # fmt: skip


class _StateCollector(Collector):
    def __init__(self, writer: WriterState | None, health: MemberHealth | None) -> None:
        self._writer = writer
        self.health = health

    def collect(self) -> Iterator[Metric]:
        writer = self._writer
        if writer is not None:
            yield GaugeMetricFamily(
                "octopus_log_queue_depth", "Log records waiting to be written", writer.pending
            )
            for name, text, value in (
                ("octopus_log_written", "Log records written", writer.written),
                (
                    "octopus_log_dropped",
                    "Log records lost (queue full or rejected)",
                    writer.dropped,
                ),
                ("octopus_log_write_errors", "Failed log batch transactions", writer.write_errors),
                (
                    "octopus_log_bodies_dropped",
                    "Records stored without bodies",
                    writer.bodies_dropped,
                ),
            ):
                yield CounterMetricFamily(name, text, value)
        if self.health is not None:
            yield from _health_metrics(self.health)


def _health_metrics(health: MemberHealth) -> Iterator[Metric]:
    cooling = GaugeMetricFamily(
        "octopus_members_cooling_down", "Group members in cooldown", labels=["group_id"]
    )
    trips = CounterMetricFamily(
        "octopus_member_trips", "Times a member was put in cooldown", labels=["group_id", "item_id"]
    )
    for group_id in health.group_ids():
        snap = health.snapshot(group_id)
        cooling.add_metric([str(group_id)], len(snap.get("cooldowns", {})))
        for item_id, count in snap.get("trips", {}).items():
            trips.add_metric([str(group_id), str(item_id)], count)
    yield cooling
    yield trips
