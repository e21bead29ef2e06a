"""Every failure the gateway answers with, each knowing its status, kind and whether to retry.

    GatewayError
    ├── ClientError                  the caller's request is refused; never retried
    │   ├── BadRequest               400 malformed JSON, missing fields, unknown parameters
    │   ├── Unauthorized             401 no key, unknown key, expired key
    │   ├── Forbidden                403 disabled key, model not allowed, budget spent
    │   ├── ModelNotFound            404 no group by that name
    │   ├── PayloadTooLarge          413 body over the configured limit
    │   ├── UnsupportedMediaType     415 not JSON
    │   ├── RateLimited              429 the key's rpm / tpm / concurrency limit (retry_after)
    │   └── NotSupported             501 a conversion that does not exist yet
    │       └── CannotServe          400 this channel type cannot serve the request (embeddings
    │                                    on an Anthropic channel, token arrays to Gemini...)
    ├── UpstreamError                a provider failed us
    │   ├── UpstreamConnect          502 connect / DNS / reset before a response     (retryable)
    │   ├── UpstreamTimeout          504 no headers / first token / body in time      (retryable)
    │   ├── UpstreamProtocol         502 the provider answered something unreadable   (retryable)
    │   └── UpstreamStatus           the provider's own status; retryable for 408, 429, 5xx
    └── NoChannelAvailable           503 every member is disabled or has no usable key
        └── MembersResting           429 every member rests (rate-limited keys) or cools down

Third-party exceptions are translated at the edge (upstream transports, store), never here.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    """Provider-neutral error classes; each wire format maps them to its own type names."""

    INVALID_REQUEST = "invalid_request"
    AUTHENTICATION = "authentication"
    PERMISSION = "permission"
    NOT_FOUND = "not_found"
    TOO_LARGE = "request_too_large"
    RATE_LIMIT = "rate_limit"
    OVERLOADED = "overloaded"
    TIMEOUT = "timeout"
    UPSTREAM = "upstream"
    INTERNAL = "internal"


class GatewayError(Exception):
    status: int = 500
    kind: ErrorKind = ErrorKind.INTERNAL
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        kind: ErrorKind | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if kind is not None:
            self.kind = kind
        self.retry_after = retry_after


class ClientError(GatewayError):
    status = 400
    kind = ErrorKind.INVALID_REQUEST


class BadRequest(ClientError):
    pass


class Unauthorized(ClientError):
    status = 401
    kind = ErrorKind.AUTHENTICATION


class Forbidden(ClientError):
    status = 403
    kind = ErrorKind.PERMISSION


class ModelNotFound(ClientError):
    status = 404
    kind = ErrorKind.NOT_FOUND


class PayloadTooLarge(ClientError):
    status = 413
    kind = ErrorKind.TOO_LARGE


class UnsupportedMediaType(ClientError):
    status = 415


class RateLimited(ClientError):
    status = 429
    kind = ErrorKind.RATE_LIMIT


class NotSupported(ClientError):
    status = 501


class CannotServe(NotSupported):
    """The member is skipped; when no member of the group can serve it, the client gets 400."""

    status = 400


class UpstreamError(GatewayError):
    status = 502
    kind = ErrorKind.UPSTREAM
    retryable = True


class UpstreamConnect(UpstreamError):
    pass


class UpstreamTimeout(UpstreamError):
    status = 504
    kind = ErrorKind.TIMEOUT


class UpstreamProtocol(UpstreamError):
    pass


RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})


class UpstreamStatus(UpstreamError):
    """The provider answered with an error status; `body` keeps its error text for the log."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        kind: ErrorKind | None = None,
        retry_after: float | None = None,
        body: bytes = b"",
    ) -> None:
        super().__init__(message, status=status, kind=kind or kind_for_status(status))
        self.retry_after = retry_after
        self.body = body
        self.retryable = status in RETRYABLE_STATUSES or status >= 500


class NoChannelAvailable(GatewayError):
    status = 503
    kind = ErrorKind.OVERLOADED


class MembersResting(NoChannelAvailable):
    """Nothing to try until a rest or cooldown ends; `retry_after` says when (at least 1 s)."""

    status = 429
    kind = ErrorKind.RATE_LIMIT


def kind_for_status(status: int) -> ErrorKind:
    """The error kind an HTTP status implies, for providers whose body does not say."""
    table = {
        400: ErrorKind.INVALID_REQUEST,
        401: ErrorKind.AUTHENTICATION,
        403: ErrorKind.PERMISSION,
        404: ErrorKind.NOT_FOUND,
        408: ErrorKind.TIMEOUT,
        413: ErrorKind.TOO_LARGE,
        422: ErrorKind.INVALID_REQUEST,
        429: ErrorKind.RATE_LIMIT,
        503: ErrorKind.OVERLOADED,
        504: ErrorKind.TIMEOUT,
        529: ErrorKind.OVERLOADED,
    }
    if status in table:
        return table[status]
    return ErrorKind.INVALID_REQUEST if status < 500 else ErrorKind.UPSTREAM
