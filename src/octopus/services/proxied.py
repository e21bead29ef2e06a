"""The transport for proxied channels, imported and built at its first request.

Most gateways have no proxied channel, and aiohttp with aiohttp_socks holds ~9 MB of every
process; the lean transport hands it only proxied channels, HEAD requests and odd URLs.
"""

from __future__ import annotations

from octopus.upstream.transport import Transport, UpstreamRequest, UpstreamResponse


class ProxiedOnDemand:
    """A `Transport` that becomes the aiohttp transport the first time it is asked to send."""

    def __init__(self) -> None:
        self.loaded: Transport | None = None

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        transport = self.loaded
        if transport is None:
            from octopus.upstream.aiohttp_transport import AiohttpTransport

            transport = self.loaded = AiohttpTransport()
        return await transport.send(request)

    async def aclose(self) -> None:
        if self.loaded is not None:
            await self.loaded.aclose()
