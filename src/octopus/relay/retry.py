"""Retry classification, in one place: which failures move on to the next member, which go back
to the client as they are, and which cool the member down.

An error's `retryable` flag starts from its kind (errors.py: connect, timeout, unreadable answer,
408/429/5xx); the rules below adjust and read it. Nothing else in the relay decides.
"""

from __future__ import annotations

from typing import Literal

from octopus.errors import GatewayError, MembersResting, UpstreamStatus


def in_band(error: GatewayError) -> GatewayError:
    """An error that arrived as a stream's first event, before any content: another member
    may well work, so it fails over whatever its kind."""
    error.retryable = True
    return error


def not_retried(error: GatewayError) -> GatewayError:
    """A member that cannot serve this request (its dialect lacks a feature): say so, move on,
    but never count it as the member failing."""
    error.retryable = False
    return error


def is_client_fault(error: GatewayError) -> bool:
    """An upstream status that means the request itself is wrong: no retry can fix it, so it
    goes back to the client (401 and 403 blame the key, not the request)."""
    return (
        isinstance(error, UpstreamStatus) and not error.retryable and error.status not in (401, 403)
    )


def rate_limited(error: GatewayError) -> bool:
    return isinstance(error, MembersResting) or (
        isinstance(error, UpstreamStatus) and error.status == 429
    )


def cools_member(error: GatewayError, *, stopped: bool) -> bool:
    """A retryable failure cools the member down; a 429 does not (its key rests instead), nor
    does a round the admin stopped."""
    return not stopped and error.retryable and not rate_limited(error)


def attempt_outcome(error: GatewayError) -> Literal["failed", "rejected"]:
    """How the request log names a failed attempt: failed (moved on) or rejected (final)."""
    return "failed" if error.retryable else "rejected"
