"""How a group picks among its members: routing balances by it, the store and backups check it."""

from __future__ import annotations

from enum import StrEnum


class GroupMode(StrEnum):
    ROUND_ROBIN = "round_robin"
    RANDOM = "random"
    WEIGHTED = "weighted"
    FAILOVER = "failover"
    MANUAL = "manual"
