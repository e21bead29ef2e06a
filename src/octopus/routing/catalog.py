"""Catalog: an immutable snapshot of channels, groups and API keys that the relay routes over.

Built by the store from the database at start-up and rebuilt after every admin write; the relay
reads whichever snapshot is current and never touches the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from octopus.protocols import WireFormat
from octopus.records.group_mode import GroupMode


@dataclass(frozen=True, slots=True)
class ChannelKey:
    id: int
    secret: str = field(repr=False)
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Channel:
    id: int
    name: str
    type: WireFormat
    base_url: str
    keys: tuple[ChannelKey, ...]
    models: frozenset[str]
    enabled: bool = True
    proxy_url: str | None = (
        None  # resolved: channel proxy, else global proxy when `proxy`, else direct
    )
    custom_headers: tuple[tuple[str, str], ...] = ()
    param_override: Mapping[str, bytes] = field(default_factory=dict)  # top-level key -> raw JSON
    # a generic (Go v0.13) channel: the base each protocol is reached at, and per model the
    # protocols its grants allow with the key ids granted for each; empty for a typed channel
    endpoints: Mapping[WireFormat, str] = field(default_factory=dict)
    grants: Mapping[str, Mapping[WireFormat, frozenset[int]]] | None = None


@dataclass(frozen=True, slots=True)
class RelayConfig:
    """Per-group routing knobs; seconds throughout. Defaults match the reference's normalisation."""

    first_token_timeout: float = 30.0
    response_timeout: float = 120.0
    max_attempts: int = 3  # members tried per request, each at most once
    retry_interval: float = 0.0  # pause between two members
    cooldown: float = 60.0  # first cooldown of a failing member; doubles per trip
    cooldown_max: float = 600.0
    failure_threshold: int = 1  # consecutive failures that trip a member into cooldown
    sticky_seconds: float = 0.0  # 0 = off; same key + model stays on one member
    request_deadline: float = 600.0


@dataclass(frozen=True, slots=True)
class GroupMember:
    id: int  # group item id
    channel_id: int
    model_name: str
    priority: int = 0
    weight: int = 1


@dataclass(frozen=True, slots=True)
class Group:
    id: int
    name: str
    mode: GroupMode
    members: tuple[GroupMember, ...]
    active_item_id: int = 0
    config: RelayConfig = field(default_factory=RelayConfig)


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    name: str
    enabled: bool = True
    expire_at: int = 0  # unix seconds, 0 = never
    max_cost: float = 0.0  # lifetime USD budget, 0 = unlimited
    supported_models: frozenset[str] = frozenset()  # group names; empty = all
    max_rpm: int = 0
    max_tpm: int = 0
    max_concurrency: int = 0


@dataclass(frozen=True, slots=True)
class Catalog:
    channels: Mapping[int, Channel] = field(default_factory=dict)
    groups: Mapping[str, Group] = field(default_factory=dict)  # by public name
    keys: Mapping[str, ApiKey] = field(default_factory=dict)  # by sha256 hex of the full key
    version: int = 0
