"""Password guessing in parallel: attempts are counted before the hash is checked, per address
and per username, and hashes run a few at a time in their own pool."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx

from tests.harness import TEST_ADMIN_PASSWORD, Process, octopus_process
from tests.security.conftest import LOGIN, no_traceback

PARALLEL = 60
MAX_CHECKED = 10


async def _flood(url: str, bodies: list[dict[str, str]], forwarded: list[str]) -> Counter[int]:
    limits = httpx.Limits(max_connections=PARALLEL)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        replies = await asyncio.gather(
            *(
                client.post(LOGIN, json=body, headers={"x-forwarded-for": address})
                for body, address in zip(bodies, forwarded, strict=True)
            )
        )
    for reply in replies:
        assert reply.json()["code"] == reply.status_code
    return Counter(reply.status_code for reply in replies)


def _wrong(username: str, i: int) -> dict[str, str]:
    return {"username": username, "password": f"guess-{i}"}


async def test_parallel_guesses_from_one_address(gateway: Process) -> None:
    bodies = [_wrong("admin", i) for i in range(PARALLEL)]
    statuses = await _flood(gateway.url, bodies, ["ignored"] * PARALLEL)
    checked = statuses[401]
    assert 1 <= checked <= MAX_CHECKED, statuses
    assert statuses[429] == PARALLEL - checked, statuses
    no_traceback(gateway)


async def test_parallel_guesses_at_one_username_from_many_addresses(tmp_path: Path) -> None:
    env = {"OCTOPUS_SERVER_TRUSTED_PROXIES": "127.0.0.1"}
    with octopus_process(tmp_path, env) as proc:
        bodies = [_wrong("admin", i) for i in range(PARALLEL)]
        addresses = [f"198.51.100.{i}" for i in range(PARALLEL)]
        statuses = await _flood(proc.url, bodies, addresses)
        assert 1 <= statuses[401] <= MAX_CHECKED, statuses
        # the owner, from another address, gets in once the username's short wait has passed
        right = {"username": "admin", "password": TEST_ADMIN_PASSWORD}
        for _ in range(40):
            reply = httpx.post(
                proc.url + LOGIN, json=right, headers={"x-forwarded-for": "10.1.1.1"}
            )
            if reply.status_code != 429:
                break
            await asyncio.sleep(int(reply.headers["retry-after"]))
        assert reply.status_code == 200


async def test_a_spray_of_names_and_addresses_waits_for_few_hash_slots(tmp_path: Path) -> None:
    env = {"OCTOPUS_SERVER_TRUSTED_PROXIES": "127.0.0.1"}
    with octopus_process(tmp_path, env) as proc:
        bodies = [_wrong(f"user{i}", i) for i in range(PARALLEL)]
        addresses = [f"203.0.113.{i}" for i in range(PARALLEL)]
        statuses = await _flood(proc.url, bodies, addresses)
        # no throttle applies (each name and address is new): the hash pool's bounded queue
        # (2 running + 8 waiting) turns the rest away at once instead of queueing 60 hashes
        assert statuses[429] > 0, statuses
        assert statuses[401] + statuses[429] == PARALLEL, statuses
