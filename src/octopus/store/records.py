"""The shape of a finished request as the store reads it, and its conversion to table rows.

The relay's `RequestRecord` satisfies `LoggedRequest` structurally, so the store never imports
the relay. Strings are cut to their column sizes and secrets scrubbed here, so one bad record
can never make a whole batch fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from octopus.core.logs import scrub

HOUR = 3600
ERROR_CHARS = 4000
BODY_MARK = b"...[truncated]"


class AttemptLike(Protocol):
    @property
    def channel_id(self) -> int: ...
    @property
    def channel_name(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def key_id(self) -> int: ...
    @property
    def started_at(self) -> float: ...
    @property
    def outcome(self) -> str: ...
    @property
    def status(self) -> int: ...
    @property
    def error(self) -> str: ...
    @property
    def duration_ms(self) -> int: ...


class UsageLike(Protocol):
    @property
    def input(self) -> int: ...
    @property
    def output(self) -> int: ...
    @property
    def cache_read(self) -> int: ...
    @property
    def cache_write(self) -> int: ...
    @property
    def reasoning(self) -> int: ...
    @property
    def estimated(self) -> bool: ...


class CostLike(Protocol):
    @property
    def input_cost(self) -> float: ...
    @property
    def output_cost(self) -> float: ...


class LoggedRequest(Protocol):
    """Everything the log and the statistics keep about one client request."""

    @property
    def request_id(self) -> str: ...
    @property
    def started_at(self) -> float: ...
    @property
    def client_format(self) -> str: ...
    @property
    def requested_model(self) -> str: ...
    @property
    def api_key_id(self) -> int: ...
    @property
    def api_key_name(self) -> str: ...
    @property
    def group_id(self) -> int: ...
    @property
    def stream(self) -> bool: ...
    @property
    def status(self) -> str: ...
    @property
    def http_status(self) -> int: ...
    @property
    def channel_id(self) -> int: ...
    @property
    def channel_name(self) -> str: ...
    @property
    def upstream_model(self) -> str: ...
    @property
    def upstream_format(self) -> str: ...
    @property
    def attempts(self) -> Sequence[AttemptLike]: ...
    @property
    def first_token_ms(self) -> int | None: ...
    @property
    def duration_ms(self) -> int: ...
    @property
    def usage(self) -> UsageLike: ...
    @property
    def cost(self) -> CostLike: ...
    @property
    def losses(self) -> Sequence[str]: ...
    @property
    def error(self) -> str: ...

    # writable: the writer lets go of bodies it will not store (the relay is done with the record)
    request_body: bytes | None
    response_body: bytes | None


def attempt_json(attempt: AttemptLike) -> dict[str, Any]:
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


def log_row(record: LoggedRequest) -> dict[str, Any]:
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
    """A body as stored: never longer than the limit, secrets masked."""
    if body is None:
        return None
    if len(body) > max_bytes + len(BODY_MARK):
        body = body[:max_bytes] + BODY_MARK
    return scrub(body.decode("utf-8", errors="replace"))


def body_wanted(record: LoggedRequest, mode: str) -> bool:
    """The `log_body_mode` setting: off, errors (only unsuccessful requests) or all."""
    if record.request_body is None and record.response_body is None:
        return False
    if mode == "all":
        return True
    return mode == "errors" and record.status != "success"


def hour_of(unix: float) -> int:
    return int(unix) // HOUR * HOUR


def stats_deltas(records: Sequence[LoggedRequest]) -> list[dict[str, Any]]:
    """Sum a batch into stats_hourly increments, one per (hour, key, channel, group, model)."""
    sums: dict[tuple[int, int, int, str, str], dict[str, Any]] = {}

    def bucket(record: LoggedRequest, channel_id: int, model: str) -> dict[str, Any]:
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
    return list(sums.values())


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


def _add_request(row: dict[str, Any], record: LoggedRequest) -> None:
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
