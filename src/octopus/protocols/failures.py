"""Error plumbing shared by the codecs: upstream errors classified, statuses clients know."""

from __future__ import annotations

import re

from octopus.errors import ErrorKind, GatewayError, UpstreamStatus

# long key-like tokens (sk-…, AIza…, bearer tokens) never leave through an error message
_SECRET = re.compile(r"\b(?:sk-|sk_|AIza|key-|Bearer\s+)[A-Za-z0-9_\-\.]{8,}")
_MAX_MESSAGE = 2000


def redact(message: str) -> str:
    return _SECRET.sub("[redacted]", message)[:_MAX_MESSAGE]


def upstream_status(
    status: int,
    message: str | None,
    kind: ErrorKind | None,
    retry_after: float | None,
    body: bytes,
) -> UpstreamStatus:
    """An UpstreamStatus whose message is the provider's own words (redacted)."""
    text = redact(message) if message else f"upstream returned HTTP {status}"
    return UpstreamStatus(text, status=status, kind=kind, retry_after=retry_after, body=body)


def client_status(err: GatewayError, *, anthropic: bool = False) -> int:
    """The HTTP status to show a client; 529 is Anthropic's own and means 503 elsewhere."""
    if err.status == 529 and not anthropic:
        return 503
    return err.status
