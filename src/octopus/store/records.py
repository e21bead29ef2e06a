"""A finished request record (`octopus.records`) as table rows: the log row, stats increments.

Strings are cut to their column sizes and secrets scrubbed here, so one bad record can never
make a whole batch fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from octopus.core.logs import scrub
from octopus.records.bodies import body_wanted, cut_body
from octopus.records.request import Attempt, RequestRecord

HOUR = 3600
ERROR_CHARS = 4000


def attempt_json(attempt: Attempt) -> dict[str, Any]:
    return {
        "channel_id": attempt.channel_id,
        "channel_name": attempt.channel_name,
        "model": attempt.model,
        "key_id": attempt.key_id,
        "started_at": attempt.started_at,
        "outcome": attempt.outcome,
        "status": attempt.status,
        "error": scrub(attempt.error[:ERROR_CHARS]),
        "duration_ms": attempt.duration_ms,
    }


def log_row(record: RequestRecord) -> dict[str, Any]:
    """The request_logs column values of one record (without the database id)."""
    usage, cost = record.usage, record.cost
    return {
        "request_id": record.request_id[:64],
        "time": int(record.started_at),
        "api_key_id": record.api_key_id,
        "api_key_name": record.api_key_name[:191],
        "model": record.requested_model[:191],
        "group_id": record.group_id,
        "channel_id": record.channel_id,
        "channel_name": record.channel_name[:191],
        "upstream_model": record.upstream_model[:191],
        "client_format": record.client_format[:32],
        "upstream_format": record.upstream_format[:32],
        "stream": record.stream,
        "status": record.status[:16],
        "http_status": record.http_status,
        "attempts": [attempt_json(a) for a in record.attempts],
        "total_attempts": len(record.attempts),
        "first_token_ms": record.first_token_ms,
        "duration_ms": record.duration_ms,
        "input_tokens": usage.input,
        "cache_read_tokens": usage.cache_read,
        "cache_write_tokens": usage.cache_write,
        "output_tokens": usage.output,
        "reasoning_tokens": usage.reasoning,
        "estimated": usage.estimated,
        "input_cost": cost.input_cost,
        "output_cost": cost.output_cost,
        "losses": [str(loss)[:500] for loss in record.losses],
        "error": scrub(record.error[:ERROR_CHARS]),
    }


def log_item(row: dict[str, Any]) -> dict[str, Any]:
    """The admin API shape of a log row: the columns plus the total cost."""
    row["cost"] = (row.get("input_cost") or 0.0) + (row.get("output_cost") or 0.0)
    return row


def with_go_names(row: dict[str, Any]) -> dict[str, Any]:
    """A stored log row with the Go project's relay_logs names added (not on the relay path)."""
    # the Go project's relay_logs field names, which its clients (Android) require
    row["request_model_name"] = row.get("model", "")
    row["request_api_key_name"] = row.get("api_key_name", "")
    row["channel"] = row.get("channel_id", 0)
    row["actual_model_name"] = row.get("upstream_model", "")
    row["ftut"] = row.get("first_token_ms") or 0
    row["use_time"] = row.get("duration_ms", 0)
    row["request_content"] = row["response_content"] = ""  # bodies: /api/v1/log/{id}/…-body
    return row


def body_text(body: bytes | None, max_bytes: int) -> str | None:
    """A body as stored: never longer than the limit (and its mark), secrets masked."""
    if body is None:
        return None
    return scrub(cut_body(body, max_bytes).decode("utf-8", errors="replace"))


def keeps_bodies(record: RequestRecord, mode: str) -> bool:
    """Whether the record has a body the `log_body_mode` keeps."""
    if record.request_body is None and record.response_body is None:
        return False
    return body_wanted(mode, success=record.status == "success")


def hour_of(unix: float) -> int:
    return int(unix) // HOUR * HOUR


def stats_deltas(records: Sequence[RequestRecord]) -> list[dict[str, Any]]:
    """Sum a batch into stats_hourly increments, one per (hour, key, channel, group, model)."""
    sums: dict[tuple[int, int, int, str, str], dict[str, Any]] = {}

    def bucket(record: RequestRecord, channel_id: int, model: str) -> dict[str, Any]:
        key = (
            hour_of(record.started_at),
            record.api_key_id,
            channel_id,
            record.requested_model[:191],
            model[:191],
        )
        found = sums.get(key)
        if found is None:
            found = sums[key] = _zero(key)
        return found

    for record in records:
        row = bucket(record, record.channel_id, record.upstream_model)
        _add_request(row, record)
        for attempt in record.attempts[:-1]:
            if attempt.outcome == "failed":
                bucket(record, attempt.channel_id, attempt.model)["attempt_failed"] += 1
    return [sums[key] for key in sorted(sums)]  # one row order for every writer: no deadlocks


COUNTERS = (
    "request_success",
    "request_failed",
    "attempt_failed",
    "input_token",
    "output_token",
    "cache_read_token",
    "cache_write_token",
    "reasoning_token",
    "input_cost",
    "output_cost",
    "wait_time",
)


def _zero(key: tuple[int, int, int, str, str]) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COUNTERS, 0)
    row["input_cost"] = row["output_cost"] = 0.0
    row.update(
        hour=key[0], api_key_id=key[1], channel_id=key[2], group_name=key[3], upstream_model=key[4]
    )
    return row


def _add_request(row: dict[str, Any], record: RequestRecord) -> None:
    usage, cost = record.usage, record.cost
    row["request_success" if record.status == "success" else "request_failed"] += 1
    row["input_token"] += usage.input
    row["output_token"] += usage.output
    row["cache_read_token"] += usage.cache_read
    row["cache_write_token"] += usage.cache_write
    row["reasoning_token"] += usage.reasoning
    row["input_cost"] += cost.input_cost
    row["output_cost"] += cost.output_cost
    row["wait_time"] += record.duration_ms
