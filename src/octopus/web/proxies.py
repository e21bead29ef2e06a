"""Client address and scheme: the peer's, unless the peer is a proxy listed in
`server.trusted_proxies`; then X-Forwarded-For (read from the right, past trusted hops) and
X-Forwarded-Proto. Nobody else can claim another address or TLS by sending those headers."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    def __init__(self, app: ASGIApp, trusted: Iterable[str]) -> None:
        self.app = app
        self.networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(name, strict=False) for name in trusted
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.networks and scope["type"] in ("http", "websocket"):
            peer = scope.get("client")
            if peer and self.trusted(peer[0]):
                _apply_forwarded(scope, self)
        await self.app(scope, receive, send)

    def trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def client_of(self, forwarded_for: str) -> str | None:
        """The right-most address not ours; None when the header holds nothing usable."""
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        chosen = None
        for hop in reversed(hops):
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                break  # a forged or broken entry: stop at the last good one
            chosen = hop
            if not self.trusted(hop):
                break
        return chosen


def _apply_forwarded(scope: Scope, proxies: TrustedProxies) -> None:
    headers = Headers(scope=scope)
    proto = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    if proto in ("http", "https"):
        secure = proto == "https"
        if scope["type"] == "websocket":
            scope["scheme"] = "wss" if secure else "ws"
        else:
            scope["scheme"] = proto
    # every header line: a proxy may append its own line below one the client forged
    client = proxies.client_of(",".join(headers.getlist("x-forwarded-for")))
    if client is not None:
        scope["client"] = (client, 0)
