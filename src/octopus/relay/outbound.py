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

# client headers never forwarded: hop-by-hop, credentials, what we set ourselves, and the
# gateway's own network details
_NOT_FORWARDED = PROTECTED_HEADERS | {
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
    "content-type",
    "accept",
    "cookie",
    "forwarded",
    "x-real-ip",
    "origin",
    "referer",
}
_NOT_FORWARDED_PREFIXES = ("x-forwarded-", "cf-", "sec-", "proxy-")

# response headers never relayed to the client (hop-by-hop and length/framing)
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "set-cookie",
        "alt-svc",
        "server",
        "date",
    }
)


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
) -> UpstreamRequest:
    """`client_headers` is passed only on the same-protocol path (None when converting)."""
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
        endpoint_url(kind, channel.base_url, model, stream=stream),
        list(headers.values()),
        body,
        proxy_url=channel.proxy_url,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        secrets=(key.secret,),
    )


def _forwardable(name: str) -> bool:
    return name not in _NOT_FORWARDED and not name.startswith(_NOT_FORWARDED_PREFIXES)


def client_headers_from(upstream: Headers, *, all_headers: bool) -> list[tuple[str, str]]:
    """Upstream response headers the client sees: all but hop-by-hop on passthrough, else only
    request ids and rate-limit information."""
    out: list[tuple[str, str]] = []
    for name, value in upstream:
        lowered = name.lower()
        if lowered in HOP_BY_HOP:
            continue
        if (
            all_headers
            or "request-id" in lowered
            or "ratelimit" in lowered
            or lowered == "retry-after"
        ):
            out.append((lowered, value))
    return out
