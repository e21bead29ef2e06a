"""Two RedisFleets on the real Redis at 127.0.0.1:6379, as two processes would hold them."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import orjson
import pytest

from octopus.coordination import live_fleet_redis
from octopus.coordination.link import RedisLink
from octopus.coordination.live_fleet_redis import RedisFleet
from octopus.services.live_log import LiveLog, Queue
from tests.cluster.harness import DEAD_REDIS_URL
from tests.conftest import REDIS_URL
from tests.logs.factory import record


@dataclass
class Rounds:
    """The relay's running rounds, as a plain dict."""

    current: dict[str, int] = field(default_factory=dict)
    stopped: list[tuple[str, int]] = field(default_factory=list)

    def running_rounds(self) -> dict[str, int]:
        return dict(self.current)

    def stop_round(self, request_id: str, number: int) -> bool:
        if self.current.get(request_id) != number:
            return False
        del self.current[request_id]
        self.stopped.append((request_id, number))
        return True


@dataclass
class Process:
    link: RedisLink
    live: LiveLog
    rounds: Rounds
    fleet: RedisFleet


def _process(url: str, prefix: str) -> Process:
    link, live, rounds = RedisLink(url, prefix), LiveLog(), Rounds()
    return Process(link, live, rounds, RedisFleet(link, live, rounds))


@pytest.fixture
async def pair() -> AsyncIterator[tuple[Process, Process]]:
    prefix = f"octotest:{secrets.token_hex(4)}"
    processes = (_process(REDIS_URL, prefix), _process(REDIS_URL, prefix))
    for process in processes:
        await process.link.start()
        process.fleet.start()
    try:
        yield processes
    finally:
        for process in processes:
            await process.fleet.stop_announcing()
            await process.link.close()


async def _next(queue: Queue) -> dict[str, object]:
    data = await asyncio.wait_for(queue.get(), 5)
    assert data is not None
    parsed: dict[str, object] = orjson.loads(data)
    return parsed


async def test_nothing_crosses_redis_until_someone_watches(pair: tuple[Process, Process]) -> None:
    a, b = pair
    b.live.started(record(status="running"))
    assert b.live.forward is None, "no watcher anywhere: the record stayed in its process"
    a.live.subscribe()
    seen = await a.fleet.snapshot()
    assert (len(seen.value), seen.scope) == (1, "fleet")
    assert b.live.forward is not None


async def test_a_new_stream_sees_the_other_process_then_its_records_in_order(
    pair: tuple[Process, Process],
) -> None:
    a, b = pair
    old = record(status="running", requested_model="on-b", started_at=1_800_000_000.0)
    b.live.started(old)
    a.live.finished(record(requested_model="on-a", started_at=1_700_000_000.0))
    queue = a.live.subscribe()
    seen = await a.fleet.snapshot()
    assert [orjson.loads(r)["model"] for r in seen.value] == ["on-b", "on-a"]  # newest first
    assert seen.scope == "fleet"
    fresh = record(status="running", requested_model="late")
    b.live.started(fresh)
    fresh.status = "success"
    b.live.finished(fresh)
    old.status = "success"
    b.live.finished(old)
    got = [await _next(queue) for _ in range(3)]
    assert [(r["request_id"], r["status"]) for r in got] == [
        (fresh.request_id, "running"),
        (fresh.request_id, "success"),
        (old.request_id, "success"),
    ]


async def test_forwarding_ends_after_the_last_announcement(
    pair: tuple[Process, Process], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    monkeypatch.setattr(live_fleet_redis, "FORWARD_SECONDS", 0.2)
    monkeypatch.setattr(live_fleet_redis, "WATCH_SECONDS", 60.0)  # no renewal during the test
    queue = a.live.subscribe()
    await a.fleet.snapshot()
    await asyncio.sleep(0.4)
    b.live.started(record(status="running"))
    assert b.live.forward is None, "the window closed: back to one attribute check"
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(queue.get(), 0.5)


async def test_running_and_stop_reach_the_process_holding_the_round(
    pair: tuple[Process, Process],
) -> None:
    a, b = pair
    a.rounds.current["here"] = 1
    b.rounds.current["there"] = 2
    running = await a.fleet.running()
    assert (running.value, running.scope) == ({"here": 1, "there": 2}, "fleet")
    missed = await a.fleet.stop("there", 1)
    assert (missed.value, missed.scope) == (False, "fleet")
    stopped = await a.fleet.stop("there", 2)
    assert stopped.value is True
    assert b.rounds.stopped == [("there", 2)]


async def test_without_redis_one_process_answers_quickly_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    alone = _process(DEAD_REDIS_URL, "octotest:dead")
    alone.rounds.current["here"] = 1
    try:
        async with asyncio.timeout(5):
            for _ in range(3):
                running = await alone.fleet.running()
                assert (running.value, running.scope) == ({"here": 1}, "local")
            stopped = await alone.fleet.stop("here", 1)
            assert (stopped.value, stopped.scope) == (True, "fleet")
            assert (await alone.fleet.stop("gone", 1)).scope == "local"
    finally:
        await alone.link.close()
    said = [r for r in caplog.records if "this process only" in r.getMessage()]
    assert len(said) == 1
    assert said[0].levelno == logging.WARNING


async def test_a_clear_empties_every_process_recent_requests(pair: tuple[Process, Process]) -> None:
    a, b = pair
    b.live.finished(record(requested_model="done-on-b"))
    running = record(status="running", requested_model="still-on-b")
    b.live.started(running)
    await a.fleet.clear()
    async with asyncio.timeout(5):
        while len(b.live.snapshot()) != 1:
            await asyncio.sleep(0.02)
    assert orjson.loads(b.live.snapshot()[0])["request_id"] == running.request_id


async def test_a_process_that_heard_but_did_not_answer_makes_it_partial_within_the_bound(
    pair: tuple[Process, Process],
) -> None:
    a, b = pair
    mute = RedisLink(REDIS_URL, a.link.prefix)
    mute.subscribe(live_fleet_redis.ASK, lambda data: None)  # hears every question, answers none
    await mute.start()
    try:
        b.rounds.current["there"] = 1
        began = asyncio.get_running_loop().time()
        running = await a.fleet.running()
        took = asyncio.get_running_loop().time() - began
        assert (running.value, running.scope) == ({"there": 1}, "partial")
        assert live_fleet_redis.ASK_SECONDS <= took < live_fleet_redis.ASK_SECONDS + 2.0
    finally:
        await mute.close()
