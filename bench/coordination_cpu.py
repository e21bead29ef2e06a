"""CPU a request spends on shared state, in process: limiter acquire + routing turn + settle.

    PYTHONPATH=$PWD/src .venv/bin/python bench/coordination_cpu.py [--requests N] [--profile]

`--concurrency` tasks (50, like the workers scenario's wrk) each run what `RelayService.handle`
does around the upstream call for a key with an RPM limit and a two-member round-robin group:
`RoutingState.ask`, `limiter.acquire`, `RoutingState.begin`, `limiter.settle`, with an upstream
wait spread over 0..`--upstream-ms` (requests out of step, as in a gateway). Once against Redis
on 127.0.0.1:6379 (fresh prefix) and once in process; the difference is what Redis adds to a
request. CPU is this process's utime + stime (time.process_time) on uvloop, the gateway's loop;
median of the rounds. `--profile` prints the top functions of one Redis round (cProfile).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import random
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable

import uvloop

from octopus.coordination.link import RedisLink
from octopus.coordination.redis_limiter import RedisLimiter
from octopus.coordination.routing import RedisRouting, SharedHealth
from octopus.core.clock import SystemClock
from octopus.records.group_mode import GroupMode
from octopus.relay.limits import InProcessLimiter, KeyLimiter
from octopus.routing.catalog import ApiKey, Group, GroupMember
from octopus.routing.state import RoutingState

KEY = ApiKey(1, "bench", max_rpm=10_000_000)
GROUP = Group(
    7, "bench-model", GroupMode.ROUND_ROBIN, (GroupMember(1, 1, "m"), GroupMember(2, 2, "m"))
)
Request = Callable[[], Awaitable[None]]


def _request(limiter: KeyLimiter, state: RoutingState, upstream_ms: float) -> Request:
    rng = random.Random(1)

    async def one() -> None:
        route = state.ask(GROUP, KEY.id)  # as RelayService.handle: before the limiter's call
        lease = await limiter.acquire(KEY, 0.0)
        await state.begin(GROUP, KEY.id, route)
        # the upstream exchange: a spread of latencies keeps requests out of step, as in a gateway
        await asyncio.sleep(rng.uniform(0, upstream_ms) / 1000)
        limiter.settle(lease, 30, 0.0)

    return one


async def _round(request: Request, total: int, concurrency: int) -> float:
    """CPU µs per request of `total` requests, `concurrency` at a time."""
    left = total

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await request()

    before = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (time.process_time() - before) / total * 1e6


async def _measure(request: Request, args: argparse.Namespace) -> list[float]:
    await _round(request, args.requests // 5, args.concurrency)  # warm-up
    return [await _round(request, args.requests, args.concurrency) for _ in range(args.rounds)]


async def main(args: argparse.Namespace) -> None:
    clock = SystemClock()
    local = RoutingState.in_memory(clock)
    local_cpu = await _measure(_request(InProcessLimiter(clock), local, args.upstream_ms), args)
    link = RedisLink("redis://127.0.0.1:6379/0", f"cpubench{secrets.token_hex(3)}:")
    health = SharedHealth(clock, link)  # subscribes: before start
    await link.start()
    failures: list[str] = []
    failed = link.failed
    link.failed = lambda exc: (failures.append(repr(exc)), failed(exc))[1]  # type: ignore[method-assign]
    shared = RoutingState.in_memory(clock)
    shared.health, shared.shared = health, RedisRouting(link, health)
    limiter = RedisLimiter(link, clock)
    request = _request(limiter, shared, args.upstream_ms)
    try:
        redis_cpu = await _measure(request, args)
        if args.profile:
            await _profile(request, args)
        if failures:
            print(f"{len(failures)} Redis calls failed (local fallback): {failures[:3]}")
    finally:
        await limiter.drain()
        await link.close()
    local_us, redis_us = statistics.median(local_cpu), statistics.median(redis_cpu)
    print(f"in process: {local_us:6.1f} CPU µs/request  rounds {_list(local_cpu)}")
    print(f"redis:      {redis_us:6.1f} CPU µs/request  rounds {_list(redis_cpu)}")
    print(f"redis adds: {redis_us - local_us:6.1f} CPU µs/request")


async def _profile(request: Request, args: argparse.Namespace) -> None:
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    await _round(request, args.requests, args.concurrency)
    profile.disable()
    pstats.Stats(profile).sort_stats("tottime").print_stats(25)


def _list(values: list[float]) -> str:
    return " ".join(f"{v:.1f}" for v in values)


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--upstream-ms", type=float, default=2.0, help="longest upstream wait")
    parser.add_argument("--profile", action="store_true")
    return parser.parse_args()


if __name__ == "__main__":
    uvloop.run(main(_args()))
