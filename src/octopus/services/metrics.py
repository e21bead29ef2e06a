"""Prometheus metrics: a record sink that counts requests (served by `web.metrics` at `/metrics`).

Everything lives in a private CollectorRegistry. Request metrics are updated in `finished()`
(a few dictionary lookups); queue depth, drops and member cooldowns are read at scrape time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from octopus.records.request import Attempt, RequestRecord
from octopus.routing.health import MemberHealth

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
FIRST_TOKEN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
UNKNOWN_GROUP = "unknown"  # clients choose model names: only configured groups become labels
M = TypeVar("M", Counter, Histogram)


class Children(Generic[M]):
    """A metric's labelled children, kept: prometheus_client's `labels()` checks and locks on
    every call. The cache grows like the metric's own child table (bounded label values)."""

    def __init__(self, metric: M) -> None:
        self._metric: M = metric
        self._children: dict[tuple[str, ...], M] = {}

    def __call__(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child


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
    """A RecordSink feeding Prometheus counters and histograms."""

    def __init__(self, writer: WriterState | None = None, health: MemberHealth | None = None):
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.requests = Counter(
            "octopus_requests", "Client requests by group, final channel and status",
            ["group", "channel", "status"], registry=reg,
        )  # fmt: skip
        self.in_flight = Gauge("octopus_requests_in_flight", "Requests being relayed", registry=reg)
        self.duration = Histogram(
            "octopus_request_duration_seconds", "Whole request duration",
            ["group"], buckets=LATENCY_BUCKETS, registry=reg,
        )  # fmt: skip
        self.first_token = Histogram(
            "octopus_first_token_seconds", "Time to the first token sent to the client",
            ["group"], buckets=FIRST_TOKEN_BUCKETS, registry=reg,
        )  # fmt: skip
        self.tokens = Counter(
            "octopus_tokens", "Tokens by group, channel and kind",
            ["group", "channel", "kind"], registry=reg,
        )  # fmt: skip
        self.cost = Counter(
            "octopus_cost_usd", "Cost in USD by group and channel", ["group", "channel"],
            registry=reg,
        )  # fmt: skip
        self.upstream_errors = Counter(
            "octopus_upstream_errors", "Failed upstream attempts by channel and class",
            ["channel", "class"], registry=reg,
        )  # fmt: skip
        self._requests, self._duration = Children(self.requests), Children(self.duration)
        self._first_token, self._tokens = Children(self.first_token), Children(self.tokens)
        self._cost, self._errors = Children(self.cost), Children(self.upstream_errors)
        self._state = _StateCollector(writer, health)
        reg.register(self._state)

    def watch_health(self, health: MemberHealth) -> None:
        """Export member cooldowns from the relay's routing state (set once the relay exists)."""
        self._state.health = health

    def started(self, record: RequestRecord) -> None:
        self.in_flight.inc()

    def finished(self, record: RequestRecord) -> None:
        self.in_flight.dec()
        group = record.requested_model if record.group_id else UNKNOWN_GROUP
        channel = record.channel_name or "none"
        self._requests(group, channel, record.status).inc()
        self._duration(group).observe(record.duration_ms / 1000)
        if record.first_token_ms is not None:
            self._first_token(group).observe(record.first_token_ms / 1000)
        usage = record.usage
        for kind, value in (
            ("input", usage.input),
            ("output", usage.output),
            ("cache_read", usage.cache_read),
            ("cache_write", usage.cache_write),
            ("reasoning", usage.reasoning),
        ):
            if value > 0:
                self._tokens(group, channel, kind).inc(value)
        if record.cost.total > 0:
            self._cost(group, channel).inc(record.cost.total)
        for attempt in record.attempts:
            if attempt.outcome in ("failed", "rejected"):
                self._errors(attempt.channel_name, error_class(attempt)).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


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
