"""The order in which one request tries a group's members; pure, with the RNG injected."""

from __future__ import annotations

import random
from dataclasses import dataclass

from octopus.records.group_mode import GroupMode
from octopus.routing.catalog import Group, GroupMember
from octopus.routing.health import Availability, MemberHealth


@dataclass(frozen=True, slots=True)
class Candidate:
    member: GroupMember
    probe: bool = False  # cooldown over: the attempt must first win the group's probe slot


@dataclass(frozen=True, slots=True)
class Plan:
    candidates: list[Candidate]
    cooling: int  # members skipped because they cool down (or are being probed)
    retry_after: float  # shortest remaining cooldown among them


def mode_order(group: Group, rng: random.Random, turn: int) -> list[GroupMember]:
    """Members in the mode's order, before health and stickiness are applied."""
    members = sorted(group.members, key=lambda m: (m.priority, m.id))
    if group.mode is GroupMode.MANUAL:
        return [m for m in members if m.id == group.active_item_id]
    if group.mode is GroupMode.FAILOVER or len(members) < 2:
        return members
    if group.mode is GroupMode.ROUND_ROBIN:
        start = turn % len(members)
        return members[start:] + members[:start]
    if group.mode is GroupMode.WEIGHTED:
        # Efraimidis-Spirakis: u**(1/w) sorted descending = weighted sampling without replacement
        keyed = [(rng.random() ** (1.0 / max(1, m.weight)), m) for m in members]
        keyed.sort(key=lambda pair: pair[0], reverse=True)
        return [m for _, m in keyed]
    rng.shuffle(members)
    return members


def plan(
    group: Group,
    health: MemberHealth,
    *,
    rng: random.Random,
    turn: int,
    sticky_item: int | None = None,
) -> Plan:
    """Order, then put the sticky member first, then drop members that are cooling down.

    Manual mode ignores health: the one chosen member is always tried.
    """
    order = mode_order(group, rng, turn)
    if sticky_item is not None and group.mode is not GroupMode.MANUAL:
        pinned = [m for m in order if m.id == sticky_item]
        order = pinned + [m for m in order if m.id != sticky_item]
    if group.mode is GroupMode.MANUAL:
        return Plan([Candidate(m) for m in order], 0, 0.0)
    candidates: list[Candidate] = []
    waits: list[float] = []
    for member in order:
        state = health.check(member.id)
        if state is Availability.COOLING:
            waits.append(health.cooldown_left(member.id))
        else:
            candidates.append(Candidate(member, probe=state is Availability.PROBE))
    positive = [w for w in waits if w > 0]
    return Plan(candidates, len(waits), min(positive) if positive else 0.0)
