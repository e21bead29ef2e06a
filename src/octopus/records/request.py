"""What the relay reports about each client request: one RequestRecord with its Attempts.

One RequestRecord per client request. The relay fills it in and hands the same object to its
record sink at the start (status "running") and at the end with the final status; it never
changes the record after that. The store turns records into log rows and statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from octopus.protocols import canonical as c

Status = Literal["running", "success", "failed", "canceled"]
Outcome = Literal["success", "failed", "rejected", "canceled", "skipped", "stopped"]


@dataclass(slots=True)
class Attempt:
    """One upstream call. `outcome`: success, failed (retryable; next member), rejected
    (non-retryable answer returned to the client), canceled (client left)."""

    channel_id: int
    channel_name: str
    model: str
    key_id: int
    started_at: float  # unix seconds
    outcome: Outcome = "failed"
    status: int = 0  # upstream HTTP status, 0 when no response arrived
    error: str = ""
    duration_ms: int = 0
    timed_out: bool = False  # the prompt reached the upstream, which may bill it; we bill it too


@dataclass(slots=True)
class UsageRecord:
    """Token counts; `input` includes cache reads and writes (canonical convention)."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    reasoning: int = 0
    estimated: bool = False  # True when the upstream reported nothing and we estimated

    @classmethod
    def from_canonical(cls, usage: c.Usage) -> UsageRecord:
        return cls(
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_read_tokens,
            usage.cache_write_tokens,
            usage.reasoning_tokens,
        )

    @property
    def total(self) -> int:
        return self.input + self.output


@dataclass(slots=True)
class CostRecord:
    input_cost: float = 0.0  # USD
    output_cost: float = 0.0

    @property
    def total(self) -> float:
        return self.input_cost + self.output_cost


@dataclass(slots=True)
class RequestRecord:
    request_id: str
    started_at: float  # unix seconds
    client_format: str  # WireFormat value of the endpoint the client called
    requested_model: str  # the group name the client asked for
    api_key_id: int = 0
    api_key_name: str = ""
    group_id: int = 0
    stream: bool = False
    status: Status = "running"
    http_status: int = 0
    channel_id: int = 0  # the final (or last tried) channel
    channel_name: str = ""
    upstream_model: str = ""
    upstream_format: str = ""
    attempts: list[Attempt] = field(default_factory=list)
    first_token_ms: int | None = None
    duration_ms: int = 0
    usage: UsageRecord = field(default_factory=UsageRecord)
    cost: CostRecord = field(default_factory=CostRecord)
    losses: list[str] = field(default_factory=list)
    error: str = ""
    request_body: bytes | None = None
    response_body: bytes | None = None
