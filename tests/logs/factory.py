"""Build relay RequestRecords directly (the shape the relay hands to its sink)."""

from __future__ import annotations

import itertools
from typing import Any

from octopus.records.request import Attempt, CostRecord, RequestRecord, UsageRecord

_ids = itertools.count(1)


def record(**overrides: Any) -> RequestRecord:
    """A finished, successful single-attempt request; override any field."""
    n = next(_ids)
    started = float(overrides.pop("started_at", 1_700_000_000.0 + n))
    channel_id = overrides.pop("channel_id", 1)
    channel_name = overrides.pop("channel_name", f"channel-{channel_id}")
    model = overrides.pop("upstream_model", "gpt-4o-mini")
    attempts = overrides.pop(
        "attempts",
        [Attempt(channel_id, channel_name, model, 1, started, "success", 200, "", 120)],
    )
    fields: dict[str, Any] = {
        "request_id": f"req-{n:08d}",
        "started_at": started,
        "client_format": "openai",
        "requested_model": "smart",
        "api_key_id": 1,
        "api_key_name": "key-one",
        "group_id": 1,
        "stream": True,
        "status": "success",
        "http_status": 200,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "upstream_model": model,
        "upstream_format": "openai",
        "attempts": attempts,
        "first_token_ms": 80,
        "duration_ms": 150,
        "usage": UsageRecord(input=100, output=20, cache_read=10, cache_write=5, reasoning=3),
        "cost": CostRecord(input_cost=0.001, output_cost=0.002),
    }
    fields.update(overrides)
    return RequestRecord(**fields)


def failover_record(**overrides: Any) -> RequestRecord:
    """Failed on channel 7 (HTTP 503), then succeeded on channel 8."""
    started = float(overrides.pop("started_at", 1_700_000_500.0))
    attempts = [
        Attempt(7, "primary", "gpt-4o", 11, started, "failed", 503, "upstream 503: overloaded", 40),
        Attempt(8, "backup", "gpt-4o-2024", 12, started + 0.05, "success", 200, "", 300),
    ]
    return record(
        started_at=started,
        attempts=attempts,
        channel_id=8,
        channel_name="backup",
        upstream_model="gpt-4o-2024",
        **overrides,
    )
