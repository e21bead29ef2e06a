"""Pure routing decisions: mode order, health (cooldown, backoff, probe), keys, stickiness."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from octopus.protocols import WireFormat
from octopus.records.group_mode import GroupMode
from octopus.routing import balancer
from octopus.routing.affinity import InMemoryRoundRobin, InMemoryStickiness
from octopus.routing.catalog import Channel, ChannelKey, Group, GroupMember, RelayConfig
from octopus.routing.health import Availability, InMemoryHealth
from octopus.routing.keys import InMemoryKeyHealth
from tests.fakes.doubles import FakeClock

CONFIG = RelayConfig(cooldown=10.0, cooldown_max=35.0, failure_threshold=2)


def _group(mode: GroupMode, weights: tuple[int, ...] = (1, 1, 1), active: int = 0) -> Group:
    members = tuple(
        GroupMember(10 + i, i, "m", priority=len(weights) - i, weight=w)
        for i, w in enumerate(weights)
    )
    return Group(1, "g", mode, members, active_item_id=active)


def _ids(members: list[GroupMember]) -> list[int]:
    return [m.id for m in members]


def test_mode_orders() -> None:
    rng = random.Random(1)
    assert _ids(balancer.mode_order(_group(GroupMode.FAILOVER), rng, 0)) == [12, 11, 10]  # priority
    rr = [
        _ids(balancer.mode_order(_group(GroupMode.ROUND_ROBIN), rng, turn))[0] for turn in range(6)
    ]
    assert rr == [12, 11, 10, 12, 11, 10]
    assert _ids(balancer.mode_order(_group(GroupMode.MANUAL, active=11), rng, 0)) == [11]
    assert balancer.mode_order(_group(GroupMode.MANUAL, active=99), rng, 0) == []
    firsts = Counter(
        _ids(balancer.mode_order(_group(GroupMode.WEIGHTED, (1, 2, 7)), rng, 0))[0]
        for _ in range(5000)
    )
    assert firsts[12] / 5000 == pytest.approx(0.7, abs=0.03)
    assert firsts[10] / 5000 == pytest.approx(0.1, abs=0.03)
    orders = {
        tuple(_ids(balancer.mode_order(_group(GroupMode.RANDOM), rng, 0))) for _ in range(200)
    }
    assert len(orders) == 6  # every permutation shows up


def test_plan_applies_stickiness_and_health() -> None:
    clock = FakeClock()
    health = InMemoryHealth(clock)
    group = _group(GroupMode.FAILOVER)
    plan = balancer.plan(group, health, rng=random.Random(0), turn=0, sticky_item=10)
    assert _ids([c.member for c in plan.candidates]) == [10, 12, 11]
    health.record_failure(1, 12, RelayConfig(cooldown=5))
    plan = balancer.plan(group, health, rng=random.Random(0), turn=0)
    assert _ids([c.member for c in plan.candidates]) == [11, 10]
    assert (plan.cooling, plan.retry_after) == (1, 5.0)
    clock.advance(5)
    plan = balancer.plan(group, health, rng=random.Random(0), turn=0)
    assert [(c.member.id, c.probe) for c in plan.candidates] == [
        (12, True),
        (11, False),
        (10, False),
    ]
    manual = balancer.plan(
        _group(GroupMode.MANUAL, active=12), health, rng=random.Random(0), turn=0
    )
    assert [c.member.id for c in manual.candidates] == [12]


def test_threshold_backoff_cap_and_single_probe() -> None:
    clock = FakeClock()
    health = InMemoryHealth(clock)
    assert health.record_failure(1, 10, CONFIG) is False  # 1 of 2
    health.record_success(1, 10)  # success resets the count
    assert health.record_failure(1, 10, CONFIG) is False
    assert health.record_failure(1, 10, CONFIG) is True
    assert health.check(10) is Availability.COOLING
    cooldowns = []
    for _ in range(4):  # every failed probe doubles the cooldown, up to the cap
        cooldowns.append(health.cooldown_left(10))
        clock.advance(health.cooldown_left(10))
        assert health.check(10) is Availability.PROBE
        assert health.claim_probe(1, 10) is True
        assert health.claim_probe(1, 10) is False  # one probe at a time
        assert health.check(10) is Availability.COOLING
        assert health.record_failure(1, 10, CONFIG) is True  # a probe fails at once
    assert cooldowns == [10.0, 20.0, 35.0, 35.0]
    clock.advance(35)
    assert health.claim_probe(1, 10)
    health.release_probe(1, 10)  # canceled: no verdict, the slot is free again
    assert health.claim_probe(1, 10)
    health.record_success(1, 10)
    assert health.check(10) is Availability.READY
    assert health.snapshot(1)["current_item_id"] == 10


def test_snapshot_listeners_and_reset() -> None:
    clock = FakeClock(start=1000.0)
    health = InMemoryHealth(clock)
    seen: list[int] = []
    unsubscribe = health.add_listener(seen.append)
    health.record_failure(7, 70, RelayConfig(cooldown=3))
    snap = health.snapshot(7)
    assert snap["cooldowns"] == {"70": 1_003_000}
    assert snap["group_id"] == 7
    health.reset(7)
    assert health.snapshot(7)["cooldowns"] == {}
    assert health.check(70) is Availability.READY
    unsubscribe()
    health.record_failure(7, 70, RelayConfig())
    assert seen == [7, 7]


def _channel(keys: int, disabled: tuple[int, ...] = ()) -> Channel:
    return Channel(
        1,
        "c",
        WireFormat.OPENAI_CHAT,
        "http://x",
        tuple(ChannelKey(i, f"k{i}", i not in disabled) for i in range(keys)),
        frozenset(),
    )


def test_keys_rotate_rest_and_follow_the_catalog() -> None:
    clock = FakeClock()
    keys = InMemoryKeyHealth(clock)
    assert [keys.usable(_channel(3))[0].id for _ in range(4)] == [0, 1, 2, 0]
    keys.rest(1, 1, 30)
    assert {k.id for k in keys.usable(_channel(3))} == {0, 2}
    assert keys.rest_left(_channel(3)) == 30
    clock.advance(30)
    assert {k.id for k in keys.usable(_channel(3))} == {0, 1, 2}
    keys.disable(1, 2, "401")
    assert {k.id for k in keys.usable(_channel(3))} == {0, 1}
    assert {k.id for k in keys.usable(_channel(3, disabled=(2,)))} == {0, 1}  # persisted
    assert {k.id for k in keys.usable(_channel(3))} == {0, 1, 2}  # re-enabled by the admin


def test_stickiness_expires_and_is_bounded() -> None:
    clock = FakeClock()
    sticky = InMemoryStickiness(clock, max_entries=2)
    sticky.pin(1, 1, 10, 5)
    assert sticky.get(1, 1) == 10
    clock.advance(5)
    assert sticky.get(1, 1) is None
    for key in range(3):
        sticky.pin(key, 1, 10 + key, 60)
    assert sticky.get(0, 1) is None
    assert sticky.get(2, 1) == 12
    sticky.clear(1)
    assert sticky.get(2, 1) is None
    turns = InMemoryRoundRobin()
    assert [turns.next(1), turns.next(1), turns.next(2)] == [0, 1, 0]
