"""The routing state one process keeps, bundled: member health, key health, stickiness, turns."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Protocol

from octopus.core.clock import Clock
from octopus.records.group_mode import GroupMode
from octopus.routing.affinity import InMemoryRoundRobin, InMemoryStickiness, RoundRobin, Stickiness
from octopus.routing.catalog import Group
from octopus.routing.health import InMemoryHealth, MemberHealth
from octopus.routing.keys import InMemoryKeyHealth, KeyHealth


class Route(Protocol):
    """The fleet's turn and pin for one request, asked for and not yet read."""

    async def answer(self) -> tuple[int, int | None] | None:
        """(turn, sticky member), or None while Redis is away."""
        ...

    def drop(self) -> None:
        """The answer will not be read (the request was refused)."""
        ...


class SharedRouting(Protocol):
    """The fleet-wide part of routing (Redis); every call answers None while it is away."""

    def route(self, group_id: int, key_id: int, turn: bool, sticky: bool) -> Route:
        """Ask now for the next round-robin turn and the sticky member (one round trip)."""
        ...

    async def claim_probe(self, group_id: int, item_id: int) -> bool | None: ...
    def pin(self, key_id: int, group_id: int, item_id: int, seconds: float) -> None: ...
    def clear(self, group_id: int) -> None: ...


@dataclass(slots=True)
class RoutingState:
    health: MemberHealth
    keys: KeyHealth
    sticky: Stickiness
    turns: RoundRobin
    rng: random.Random = field(default_factory=random.Random)
    shared: SharedRouting | None = None  # several instances: turns, pins and probes in Redis

    def ask(self, group: Group, key_id: int) -> Route | None:
        """Send the shared route lookup now, to be read by `begin`: the relay asks before its
        limiter call, so that both leave in one write. A request the limiter then refuses has
        used a turn: like a request of another key, it only shifts the rotation."""
        turn, sticky = _needs(group)
        if self.shared is None or not (turn or sticky):
            return None
        return self.shared.route(group.id, key_id, turn, sticky)

    async def begin(
        self, group: Group, key_id: int, asked: Route | None = None
    ) -> tuple[int, int | None]:
        """This request's round-robin turn and sticky member (one round trip when shared)."""
        turn, sticky = _needs(group)
        if self.shared is not None and (turn or sticky):
            route = asked or self.shared.route(group.id, key_id, turn, sticky)
            answer = await route.answer()
            if answer is not None:
                return answer
        return (
            self.turns.next(group.id) if turn else 0,
            self.sticky.get(key_id, group.id) if sticky else None,
        )

    async def claim_probe(self, group_id: int, item_id: int) -> bool:
        """Win the one recovery probe of a member: here, then across the fleet."""
        if not self.health.claim_probe(group_id, item_id):
            return False
        if self.shared is None:
            return True
        won = await self.shared.claim_probe(group_id, item_id)
        if won is False:  # another instance probes it; its verdict will reach us
            self.health.release_probe(group_id, item_id)
            return False
        return True

    def pin(self, key_id: int, group_id: int, item_id: int, seconds: float) -> float:
        until = self.sticky.pin(key_id, group_id, item_id, seconds)
        if self.shared is not None:
            self.shared.pin(key_id, group_id, item_id, seconds)
        return until

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
        if self.shared is not None:
            self.shared.clear(group_id)


def _needs(group: Group) -> tuple[bool, bool]:
    """Whether the group takes turns and whether it pins members."""
    turn = group.mode is GroupMode.ROUND_ROBIN and len(group.members) > 1
    return turn, group.config.sticky_seconds > 0
