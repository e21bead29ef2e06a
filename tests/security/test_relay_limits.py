"""Key limits across processes through the real Redis, and without it: a 10-RPM key gets
exactly 10 answers from 24 requests over two gateways; a killed gateway's concurrency slot
comes back within the 30 s lease; with Redis unreachable limits still hold, per process."""

from __future__ import annotations

import asyncio
import secrets
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.fakes.upstream import FakeUpstream, Fault
from tests.harness import Process, octopus_process
from tests.security import relay_setup as s
from tests.security.conftest import no_traceback

REDIS_URL = "redis://127.0.0.1:6379/0"
ASK = {"model": "g", "messages": [{"role": "user", "content": "hi"}]}


def _shared(tmp_path: Path) -> dict[str, str]:
    """Two instances: one database file, one Redis, a prefix of their own."""
    return {
        "OCTOPUS_DATABASE_PATH": str(tmp_path / "shared.db"),
        "OCTOPUS_REDIS_URL": REDIS_URL,
        "OCTOPUS_REDIS_PREFIX": f"octotest:{secrets.token_hex(4)}:",
    }


def _configure(gateway: Process, fake: FakeUpstream, **limits: object) -> str:
    with s.admin(gateway.url) as admin:
        s.add_group(admin, "g", [s.add_channel(admin, fake, "c1")])
        return s.add_key(admin, "limited", **limits)


async def _statuses(urls: list[str], key: str) -> list[int]:
    async with httpx.AsyncClient(timeout=30) as http:
        replies = await asyncio.gather(
            *(
                http.post(
                    url + "/v1/chat/completions",
                    headers={"Authorization": f"Bearer {key}"},
                    json=ASK,
                )
                for url in urls
            )
        )
    return [r.status_code for r in replies]


def test_a_10_rpm_key_gets_exactly_10_answers_across_two_gateways(
    fake: FakeUpstream, tmp_path: Path
) -> None:
    env = _shared(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with octopus_process(tmp_path / "a", env) as one:
        key = _configure(one, fake, max_rpm=10)
        with octopus_process(tmp_path / "b", env) as two:  # loads the key from the shared DB
            urls = [one.url, two.url] * 12
            statuses = [
                *asyncio.run(_statuses(urls[:12], key)),
                *asyncio.run(_statuses(urls[12:], key)),
            ]
            assert statuses.count(200) == 10, statuses
            assert statuses.count(429) == 14, statuses
            assert len(fake.calls("c1")) == 10
            no_traceback(two)
        no_traceback(one)


@pytest.mark.slow
def test_a_killed_gateways_concurrency_slot_comes_back_within_the_lease(
    fake: FakeUpstream, tmp_path: Path
) -> None:
    env = _shared(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    fake.always["c1"] = Fault(stall_after=1, stall=120.0)  # the first request never finishes
    with octopus_process(tmp_path / "b", env) as survivor:
        key = _configure(survivor, fake, max_concurrency=1)
        with (
            octopus_process(tmp_path / "a", env) as doomed,
            httpx.stream(
                "POST",
                doomed.url + "/v1/chat/completions",
                headers={"Authorization": f"Bearer {key}"},
                json={**ASK, "stream": True},
                timeout=30,
            ) as held,
        ):
            assert held.status_code == 200  # the slot is taken on the shared Redis
            assert asyncio.run(_statuses([survivor.url], key)) == [429]
            doomed.popen.send_signal(signal.SIGKILL)
            doomed.popen.wait(10)
        fake.always["c1"] = Fault()
        killed_at = time.monotonic()
        s.until(lambda: asyncio.run(_statuses([survivor.url], key)) == [200], timeout=45)
        assert time.monotonic() - killed_at <= 31 + 5  # the lease (30 s) plus polling slack


def test_with_redis_unreachable_limits_fall_back_to_the_process(
    fake: FakeUpstream, tmp_path: Path
) -> None:
    env = {"OCTOPUS_REDIS_URL": "redis://127.0.0.1:1/0"}
    with octopus_process(tmp_path, env) as gateway:
        key = _configure(gateway, fake, max_rpm=3)
        statuses = [asyncio.run(_statuses([gateway.url], key))[0] for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]  # never unlimited
        assert "redis unavailable: key limits are enforced per process" in gateway.log()
        no_traceback(gateway)
