"""Which protocol a generic (several-protocol) channel is called in for one request."""

from __future__ import annotations

import dataclasses

from octopus.protocols import WireFormat
from octopus.routing.catalog import Channel

PREFERENCE = (
    WireFormat.OPENAI_CHAT,
    WireFormat.OPENAI_RESPONSES,
    WireFormat.ANTHROPIC,
    WireFormat.GEMINI,
)


def allowed(channel: Channel, model: str) -> dict[WireFormat, frozenset[int] | None]:
    """Protocol -> granted key ids (None = every key) for `model` on this channel."""
    if channel.grants is None:  # no grants given: every configured protocol, every key
        return dict.fromkeys(channel.endpoints)
    granted = channel.grants.get(model, {})
    return {kind: ids for kind, ids in granted.items() if kind in channel.endpoints}


def for_client(channel: Channel, model: str, client: WireFormat) -> Channel | None:
    """The channel as one protocol: the client's own when granted (a pure passthrough), else
    the first granted one in PREFERENCE (converted); None when nothing is granted for `model`.

    A typed channel comes back as it is.
    """
    if not channel.endpoints:
        return channel
    choices = allowed(channel, model)
    kind = client if client in choices else next((k for k in PREFERENCE if k in choices), None)
    if kind is None:
        return None
    ids = choices[kind]
    keys = channel.keys if ids is None else tuple(k for k in channel.keys if k.id in ids)
    return dataclasses.replace(
        channel, type=kind, base_url=channel.endpoints[kind], keys=keys, endpoints={}, grants=None
    )
