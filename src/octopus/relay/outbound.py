"""The upstream request of one attempt: URL, headers (client, required, custom, auth) and body."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from octopus.routing.catalog import Channel, ChannelKey, GroupMember
from octopus.upstream.providers import (
    PROTECTED_HEADERS,
    auth_headers,
    endpoint_url,
    required_headers,
)
from octopus.upstream.transport import Headers, UpstreamRequest

# client headers forwarded on the same-protocol path: provider versions and betas, and what the
# official SDKs, Claude Code and Codex send to identify themselves (docs/security.md)
FORWARDED_REQUEST_HEADERS = frozenset(
    {
        "anthropic-beta",
        "anthropic-version",
        "anthropic-dangerous-direct-browser-access",
        "openai-beta",
        "openai-version",
        "user-agent",
        "idempotency-key",
        "x-app",
        "x-claude-code-session-id",
        "x-client-request-id",
        "x-goog-api-client",
        "originator",
        "session-id",
        "thread-id",
        "x-request-id",
    }
)
FORWARDED_REQUEST_PREFIXES = ("x-stainless-", "x-codex-")

# upstream response headers a client may see: content type, request ids, rate-limit information
RELAYED_RESPONSE_HEADERS = frozenset(
    {
        "content-type",
        "cache-control",
        "retry-after",
        "request-id",
        "x-request-id",
        "openai-processing-ms",
        "openai-version",
    }
)
RELAYED_RESPONSE_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-")
_OWN_FRAMING = frozenset({"content-type", "cache-control"})  # a converted answer sets its own


@dataclass(frozen=True, slots=True)
class Target:
    """Where one attempt goes: a group member, its channel and one of the channel's keys."""

    member: GroupMember
    channel: Channel
    key: ChannelKey


def build_request(
    target: Target,
    body: bytes,
    *,
    stream: bool,
    client_headers: Mapping[str, str] | None,
    timeouts: tuple[float, float],
    url: str | None = None,
) -> UpstreamRequest:
    """`client_headers` come only on the passthrough path (relay/paths.py), None otherwise;
    `url` replaces the channel's generation endpoint (embeddings have their own)."""
    channel, key, model = target.channel, target.key, target.member.model_name
    kind = channel.type
    headers: dict[str, tuple[str, str]] = {}
    for name, value in (client_headers or {}).items():
        if _forwardable(name):
            headers[name] = (name, value)
    headers["content-type"] = ("Content-Type", "application/json")
    headers["accept"] = ("Accept", "text/event-stream" if stream else "application/json")
    headers["accept-encoding"] = ("Accept-Encoding", "identity")
    for name, value in required_headers(kind, dict(client_headers or {})):
        headers[name.lower()] = (name, value)
    for name, value in channel.custom_headers:
        if name.lower() not in PROTECTED_HEADERS:
            headers[name.lower()] = (name, value)
    for name, value in auth_headers(kind, key.secret):
        headers[name.lower()] = (name, value)
    connect_timeout, read_timeout = timeouts
    return UpstreamRequest(
        "POST",
        url or endpoint_url(kind, channel.base_url, model, stream=stream),
        list(headers.values()),
        body,
        proxy_url=channel.proxy_url,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        secrets=(key.secret,),
    )


def _forwardable(name: str) -> bool:
    return name in FORWARDED_REQUEST_HEADERS or name.startswith(FORWARDED_REQUEST_PREFIXES)


def client_headers_from(upstream: Headers, *, all_headers: bool) -> list[tuple[str, str]]:
    """Upstream response headers the client sees, from the allow-list only; the content type
    only when the body is relayed as it came (`all_headers`)."""
    out: list[tuple[str, str]] = []
    for name, value in upstream:
        lowered = name.lower()
        relayed = lowered in RELAYED_RESPONSE_HEADERS or lowered.startswith(
            RELAYED_RESPONSE_PREFIXES
        )
        if relayed and (all_headers or lowered not in _OWN_FRAMING):
            out.append((lowered, value))
    return out


def json_headers(upstream: Headers) -> list[tuple[str, str]]:
    """The allowed upstream headers of an answer we re-encoded as JSON."""
    return [*client_headers_from(upstream, all_headers=False), ("content-type", "application/json")]
