"""The routing state one process keeps, bundled: member health, key health, stickiness, turns."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from octopus.core.clock import Clock
from octopus.routing.affinity import InMemoryRoundRobin, InMemoryStickiness, RoundRobin, Stickiness
from octopus.routing.health import InMemoryHealth, MemberHealth
from octopus.routing.keys import InMemoryKeyHealth, KeyHealth


@dataclass(slots=True)
class RoutingState:
    health: MemberHealth
    keys: KeyHealth
    sticky: Stickiness
    turns: RoundRobin
    rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def in_memory(cls, clock: Clock, seed: int | None = None) -> RoutingState:
        return cls(
            health=InMemoryHealth(clock),
            keys=InMemoryKeyHealth(clock),
            sticky=InMemoryStickiness(clock),
            turns=InMemoryRoundRobin(),
            rng=random.Random(seed),
        )

    def reset_group(self, group_id: int) -> None:
        """Clear cooldowns, probes and pins of one group (the admin's "reset")."""
        self.health.reset(group_id)
        self.sticky.clear(group_id)
