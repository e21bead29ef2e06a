"""The request-wide inputs every attempt of one client request needs."""

from __future__ import annotations

from dataclasses import dataclass, field

from octopus.protocols import Codec, Loss
from octopus.protocols import canonical as c
from octopus.relay.body import Head
from octopus.relay.context import ClientRequest
from octopus.routing.catalog import RelayConfig


@dataclass(slots=True)
class Job:
    """The request-wide inputs every attempt needs."""

    client: ClientRequest
    head: Head
    codec: Codec
    config: RelayConfig
    deadline: float  # monotonic
    losses: list[Loss] = field(default_factory=list)
    canon: c.CanonRequest | None = None  # decoded once, on the first converting attempt
    capture: int = 0  # streamed response bytes to keep for the request log
    last_chance: bool = False  # no member left to fail over to after this attempt
