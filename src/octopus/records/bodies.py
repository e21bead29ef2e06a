"""Which request and response bodies a record keeps, and where they are cut.

The relay applies this when it finishes a record; the store cuts again at write time, in case
`log_body_max_bytes` shrank in between (cutting twice at one limit gives the same bytes).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

BODY_MARK = b"...[truncated]"


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


def body_wanted(mode: str, *, success: bool) -> bool:
    """The `log_body_mode` rule: off, errors (only unsuccessful requests) or all."""
    return mode == BodyMode.ALL or (mode == BodyMode.ERRORS and not success)


def cut_body(body: bytes, max_bytes: int) -> bytes:
    """At most `max_bytes`, then the mark; cutting an already cut body changes nothing."""
    if len(body) > max_bytes:
        return body[:max_bytes] + BODY_MARK
    return body


def keep_body(settings: BodySettings, body: bytes | None, *, success: bool) -> bytes | None:
    """The body to store in a record under `settings` (None = keep nothing)."""
    if body is None or not body_wanted(settings.log_body_mode, success=success):
        return None
    return cut_body(strip_binary(body), settings.log_body_max_bytes)


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
