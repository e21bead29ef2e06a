"""Refusals in the client's own error format (status, body and Retry-After), via its codec."""

from __future__ import annotations

from octopus.errors import GatewayError
from octopus.protocols import WireFormat, get_codec


def render_error(fmt: WireFormat, err: GatewayError) -> tuple[int, list[tuple[str, str]], bytes]:
    status, body = get_codec(fmt).encode_error(err)
    headers = [("content-type", "application/json"), ("content-length", str(len(body)))]
    if err.retry_after:
        headers.append(("retry-after", str(max(1, round(err.retry_after)))))
    return status, headers, body
