"""/metrics: off by default, Bearer token when set, exposition parsed by prometheus_client."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from octopus.records.request import Attempt
from octopus.routing.catalog import RelayConfig
from octopus.routing.health import InMemoryHealth
from octopus.services.metrics import GatewayMetrics
from tests.fakes.doubles import FakeClock
from tests.harness import Gateway
from tests.logs.factory import failover_record, record


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples[(name, frozenset(labels.items()))]


async def test_metrics_endpoint(gateway: Gateway) -> None:
    state = gateway.app.services
    async with httpx.AsyncClient(base_url=gateway.url) as client:
        assert (await client.get("/metrics")).status_code == 404, "off by default"
        state.live_settings.set("metrics_enabled", "true")
        state.live_settings.set("metrics_token", "scrape-secret")
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401

        timeout = Attempt(3, "slow", "m", 1, 0.0, "failed", 0, "read timeout after 30s", 30000)
        records = [
            failover_record(),
            record(status="failed", http_status=502, channel_name="backup", first_token_ms=None),
            record(
                group_id=0, requested_model="made-up-by-client", attempts=[timeout], status="failed"
            ),
        ]
        for item in records:
            state.record_sink.started(item)
            state.record_sink.finished(item)
        assert await state.log_writer.drain()

        response = await client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    requests = "octopus_requests_total"
    assert _value(samples, requests, group="smart", channel="backup", status="success") == 1
    assert _value(samples, requests, group="smart", channel="backup", status="failed") == 1
    assert _value(samples, requests, group="unknown", channel="channel-1", status="failed") == 1
    assert not any("made-up-by-client" in str(key) for key in samples), "bounded labels"
    errors = "octopus_upstream_errors_total"
    assert _value(samples, errors, channel="primary", **{"class": "server_error"}) == 1
    assert _value(samples, errors, channel="slow", **{"class": "timeout"}) == 1
    assert _value(samples, "octopus_request_duration_seconds_count", group="smart") == 2
    assert _value(samples, "octopus_first_token_seconds_count", group="smart") == 1
    tokens = "octopus_tokens_total"
    assert _value(samples, tokens, group="smart", channel="backup", kind="input") == 200
    assert _value(samples, tokens, group="smart", channel="backup", kind="output") == 40
    assert (
        abs(_value(samples, "octopus_cost_usd_total", group="smart", channel="backup") - 0.006)
        < 1e-12
    )
    assert _value(samples, "octopus_requests_in_flight") == 0
    assert _value(samples, "octopus_log_written_total") == 3
    assert _value(samples, "octopus_log_queue_depth") == 0
    assert _value(samples, "octopus_log_dropped_total") == 0


def test_cooldowns_are_exported_from_member_health() -> None:
    clock = FakeClock()
    health = InMemoryHealth(clock)
    config = RelayConfig()
    for _ in range(max(1, config.failure_threshold)):
        health.record_failure(5, 51, config)
    metrics = GatewayMetrics(health=health)
    samples = _samples(metrics.exposition().decode())
    assert _value(samples, "octopus_members_cooling_down", group_id="5") == 1
    assert _value(samples, "octopus_member_trips_total", group_id="5", item_id="51") == 1


def test_histograms_are_cumulative_and_count_a_value_on_a_bound_in_it() -> None:
    metrics = GatewayMetrics()
    for seconds in (0.05, 0.07, 700.0):
        metrics.duration.observe("smart", seconds)
    samples = _samples(metrics.exposition().decode())
    bucket = "octopus_request_duration_seconds_bucket"
    assert _value(samples, bucket, group="smart", le="0.05") == 1
    assert _value(samples, bucket, group="smart", le="0.1") == 2
    assert _value(samples, bucket, group="smart", le="600.0") == 2
    assert _value(samples, bucket, group="smart", le="+Inf") == 3
    assert _value(samples, "octopus_request_duration_seconds_count", group="smart") == 3
    assert (
        abs(_value(samples, "octopus_request_duration_seconds_sum", group="smart") - 700.12) < 1e-9
    )
