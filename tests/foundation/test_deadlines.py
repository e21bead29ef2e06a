"""Swept deadlines (core/deadlines.py): never early, at most a resolution late, cancellable,
in order, re-armed for an earlier one, nothing left behind."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from octopus.core.deadlines import COARSE, RESOLUTION, Deadline, Deadlines, deadlines_of

LATE = 0.25  # a wide margin: the machines are shared and noisy


@pytest.mark.parametrize(
    ("ahead", "late"),
    [(0.05, RESOLUTION), (1.0, COARSE * RESOLUTION)],  # a far deadline may be a coarse slot late
)
async def test_a_deadline_fires_at_its_time_never_early(ahead: float, late: float) -> None:
    loop = asyncio.get_running_loop()
    deadlines = deadlines_of(loop)
    fired: list[float] = []
    when = loop.time() + ahead
    deadlines.call_at(when, lambda: fired.append(loop.time()))
    await asyncio.sleep(ahead + late + LATE)
    assert len(fired) == 1
    assert when <= fired[0] < when + late + LATE


async def test_a_cancelled_deadline_never_fires_and_leaves_nothing() -> None:
    deadlines = Deadlines(asyncio.get_running_loop())
    fired: list[int] = []
    kept = [deadlines.call_later(0.02, fired.append, n) for n in range(100)]
    assert deadlines.pending() == 100
    for deadline in kept[1:]:
        deadline.cancel()
    kept[0].cancel()
    kept[0].cancel()  # twice: a no-op
    assert deadlines.pending() == 0
    await asyncio.sleep(0.02 + LATE)
    assert fired == []


async def test_deadlines_fire_in_time_order_and_an_earlier_one_is_not_kept_waiting() -> None:
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(loop)
    fired: list[str] = []
    start = loop.time()
    deadlines.call_later(5.0, fired.append, "late")  # the timer is armed for this one first
    deadlines.call_later(0.06, fired.append, "second")
    deadlines.call_later(0.03, fired.append, "first")
    deadlines.call_later(0.03, fired.append, "first, same slot")
    await asyncio.sleep(0.06 + LATE)
    assert fired == ["first", "first, same slot", "second"]
    assert loop.time() - start < 5.0
    assert deadlines.pending() == 1


async def test_a_callback_may_arm_the_next_deadline_even_one_already_due() -> None:
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(loop)
    fired: list[int] = []

    def again(n: int) -> None:
        fired.append(n)
        if n < 3:
            deadlines.call_at(loop.time() - 1.0 if n == 1 else loop.time() + 0.02, again, n + 1)

    deadlines.call_later(0.01, again, 1)
    await asyncio.sleep(0.05 + 3 * LATE)
    assert fired == [1, 2, 3]
    assert deadlines.pending() == 0


async def test_fired_then_cancelled_is_harmless_and_each_loop_has_its_own() -> None:
    loop = asyncio.get_running_loop()
    assert deadlines_of(loop) is deadlines_of(loop)
    other = asyncio.new_event_loop()
    try:
        assert deadlines_of(other) is not deadlines_of(loop)
    finally:
        other.close()
    deadlines = Deadlines(loop)
    fired: list[int] = []
    deadline = deadlines.call_later(RESOLUTION, fired.append, 1)
    await asyncio.sleep(RESOLUTION + LATE)
    deadline.cancel()
    assert fired == [1]
    assert deadlines.pending() == 0


async def test_deadlines_armed_and_cancelled_all_day_queue_few_slots() -> None:
    """Every request arms limits of seconds and cancels them at once: the sweep's queue must not
    grow with them (it once held a slot per arm, 20 MB in a 10-minute soak)."""
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(loop)
    for round_ in range(200):
        for delay in (0.3, 15.0, 60.0, 300.0):
            deadlines.call_later(delay, print).cancel()
        if round_ % 20 == 0:
            await asyncio.sleep(0.006)  # time moves on: a new fine slot now and then
    assert deadlines.pending() == 0
    assert deadlines.queued() <= 4 * 11


async def test_a_spent_deadline_lets_go_of_its_callback() -> None:
    """An owner keeping its own deadline (a bound method of its own) must not be a cycle."""

    class Owner:
        deadline: Deadline | None = None
        ticked = False

        def tick(self) -> None:
            self.ticked = True

    deadlines = Deadlines(asyncio.get_running_loop())
    gc.disable()  # freed by reference counts alone, or it was a cycle
    try:
        for delay in (10.0, 0.0):  # cancelled, then fired
            owner = Owner()
            seen = weakref.ref(owner)
            owner.deadline = deadlines.call_later(delay, owner.tick)
            if delay:
                owner.deadline.cancel()
            else:
                await asyncio.sleep(RESOLUTION + LATE)
                assert owner.ticked
            del owner
            assert seen() is None, delay
    finally:
        gc.enable()


async def test_a_failing_callback_is_reported_and_the_sweep_goes_on() -> None:
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(loop)
    reported: list[object] = []
    loop.set_exception_handler(lambda _, context: reported.append(context["exception"]))
    fired: list[str] = []

    def broken() -> None:
        raise ValueError("broken callback")

    try:
        deadlines.call_later(0.01, broken)
        deadlines.call_later(0.01, fired.append, "same slot")
        deadlines.call_later(0.05, fired.append, "later")
        await asyncio.sleep(0.05 + LATE)
    finally:
        loop.set_exception_handler(None)
    assert fired == ["same slot", "later"]
    assert [type(exc) for exc in reported] == [ValueError]
