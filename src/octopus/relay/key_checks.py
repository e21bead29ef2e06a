"""What an upstream's refusal of a channel key does to that key.

A 403 only rests the key (FORBIDDEN_REST): it is often about the request (a region, a model,
a policy), and a client must not be able to switch keys off by sending such requests. A 401
rests it too and starts one probe of the channel's models endpoint with the key: only a second
401 there disables it (persisted through ChannelEvents); any success lifts the rest at once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from octopus.errors import GatewayError
from octopus.protocols import WireFormat
from octopus.relay.channel_events import ChannelEvents
from octopus.routing.catalog import Channel, ChannelKey
from octopus.routing.keys import KeyHealth
from octopus.upstream.providers import ANTHROPIC_VERSION, PROTECTED_HEADERS, auth_headers
from octopus.upstream.providers import models_url as models_endpoint
from octopus.upstream.transport import Transport, UpstreamRequest

FORBIDDEN_REST = 60.0
PROBE_REST = 60.0  # the longest a 401 keeps the key out while its probe runs
PROBE_TIMEOUT = 10.0
log = logging.getLogger("octopus.relay")


@dataclass
class KeyChecks:
    keys: KeyHealth
    events: ChannelEvents
    transport: Transport
    _probing: set[tuple[int, int]] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def forbidden(self, channel: Channel, key_id: int, message: str) -> None:
        reason = f"upstream answered 403 (resting {FORBIDDEN_REST:g}s): {message}"[:500]
        self.keys.rest(channel.id, key_id, FORBIDDEN_REST, reason)
        self.events.key_resting(channel.id, key_id, FORBIDDEN_REST)

    def unauthorized(self, channel: Channel, key_id: int, message: str) -> None:
        reason = f"upstream answered 401, checking the key: {message}"[:500]
        self.keys.rest(channel.id, key_id, PROBE_REST, reason)
        key = next((k for k in channel.keys if k.id == key_id), None)
        if key is None or (channel.id, key_id) in self._probing:
            return
        self._probing.add((channel.id, key_id))
        task = asyncio.get_running_loop().create_task(self._probe(channel, key, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _probe(self, channel: Channel, key: ChannelKey, message: str) -> None:
        try:
            status = await self._models_status(channel, key)
        except (GatewayError, OSError, TimeoutError):
            return  # undecided: the rest runs out on its own
        finally:
            self._probing.discard((channel.id, key.id))
        if status == 401:
            reason = f"upstream answered 401, confirmed by the models endpoint: {message}"[:500]
            self.keys.disable(channel.id, key.id, reason)
            self.events.key_disabled(channel.id, key.id, reason)
        elif status < 400:
            self.keys.clear_rest(channel.id, key.id)
            log.info("channel %s key %s passed its check after a 401", channel.id, key.id)

    async def _models_status(self, channel: Channel, key: ChannelKey) -> int:
        headers = [(n, v) for n, v in channel.custom_headers if n.lower() not in PROTECTED_HEADERS]
        if channel.type is WireFormat.ANTHROPIC:
            headers.append(("anthropic-version", ANTHROPIC_VERSION))
        headers += auth_headers(channel.type, key.secret)
        request = UpstreamRequest(
            "GET",
            models_endpoint(channel.base_url),
            headers,
            proxy_url=channel.proxy_url,
            connect_timeout=PROBE_TIMEOUT,
            read_timeout=PROBE_TIMEOUT,
            secrets=(key.secret,),
        )
        async with asyncio.timeout(PROBE_TIMEOUT * 2):
            resp = await self.transport.send(request)
            await resp.aclose()
        return resp.status
