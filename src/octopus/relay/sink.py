"""What the relay reports about each client request (RequestRecord) and where it goes (RecordSink).

One RequestRecord per client request. The relay calls `sink.started(record)` once when routing
begins (status "running") and `sink.finished(record)` once at the end with the final status. The
same object is passed both times; the relay mutates it in between and never after `finished`.
Both calls are synchronous, must not block and must not raise (the relay swallows and counts
what they raise anyway). The store's batch writer and the live log stream implement the sink.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol

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


class RecordSink(Protocol):
    def started(self, record: RequestRecord) -> None: ...
    def finished(self, record: RequestRecord) -> None: ...


class NullSink:
    def started(self, record: RequestRecord) -> None:
        pass

    def finished(self, record: RequestRecord) -> None:
        pass


class ListSink:
    """Keeps every finished record in memory (tests, debugging)."""

    def __init__(self) -> None:
        self.running: list[RequestRecord] = []
        self.records: list[RequestRecord] = []

    def started(self, record: RequestRecord) -> None:
        self.running.append(record)

    def finished(self, record: RequestRecord) -> None:
        if record in self.running:
            self.running.remove(record)
        self.records.append(record)


class BodyMode(StrEnum):
    OFF = "off"
    ERRORS = "errors"  # keep bodies only for requests that did not succeed
    ALL = "all"


_DATA_URL = re.compile(rb"data:(image|audio|video|application)/[\w.+-]+;base64,[A-Za-z0-9+/=]{64,}")
_B64_FIELD = re.compile(rb'"(data|bytes|b64_json)"(\s*:\s*)"[A-Za-z0-9+/=\\n]{256,}"')


class BodySettings(Protocol):
    """Read per request, so a live settings object (log_body_mode / log_body_max_bytes) works."""

    @property
    def log_body_mode(self) -> str: ...

    @property
    def log_body_max_bytes(self) -> int: ...


@dataclass(frozen=True, slots=True)
class BodyPolicy:
    """A fixed BodySettings: which bodies a record keeps, truncated at `max_bytes`."""

    mode: BodyMode = BodyMode.OFF
    max_bytes: int = 64 * 1024

    @property
    def log_body_mode(self) -> str:
        return self.mode.value

    @property
    def log_body_max_bytes(self) -> int:
        return self.max_bytes

    def keep(self, body: bytes | None, *, success: bool) -> bytes | None:
        return keep_body(self, body, success=success)


def keep_body(settings: BodySettings, body: bytes | None, *, success: bool) -> bytes | None:
    """The body to store in a record under `settings` (None = keep nothing)."""
    mode = settings.log_body_mode
    if body is None or mode == BodyMode.OFF or (mode == BodyMode.ERRORS and success):
        return None
    cleaned = strip_binary(body)
    limit = settings.log_body_max_bytes
    if len(cleaned) > limit:
        return cleaned[:limit] + b"...[truncated]"
    return cleaned


def strip_binary(body: bytes) -> bytes:
    """Base64 images and files become short placeholders saying how large they were."""

    def url_placeholder(match: re.Match[bytes]) -> bytes:
        return b"[base64 %s, %d bytes]" % (match.group(1), _decoded_size(match.group(0)))

    def field_placeholder(match: re.Match[bytes]) -> bytes:
        size = len(match.group(0)) * 3 // 4
        return b'"%s"%s"[base64, ~%d bytes]"' % (match.group(1), match.group(2), size)

    if b"base64" not in body and b'"data"' not in body and b'"b64_json"' not in body:
        return body
    body = _DATA_URL.sub(url_placeholder, body)
    return _B64_FIELD.sub(field_placeholder, body)


def _decoded_size(data_url: bytes) -> int:
    payload = data_url.split(b",", 1)[1]
    try:
        return len(base64.b64decode(payload + b"=" * (-len(payload) % 4)))
    except ValueError:
        return len(payload) * 3 // 4
