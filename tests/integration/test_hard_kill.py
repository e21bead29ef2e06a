"""`kill -9` under real relay load, on each database, several times in a row.

Every request acknowledged more than a second before a kill is in the request log after the
restart, compared by identity (each request carries its own marker, found again in the logged
request body), not by count. One kill lands wherever the load happens to be; the others land
just before a flush, the worst moment: the writer holds the most unwritten records then. After
the last restart the statistics still equal the logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from octopus.protocols import WireFormat
from octopus.store.engine import make_engine
from octopus.store.tables import RequestLog, RequestLogBody
from tests.fakes.upstream import FakeUpstream
from tests.harness import TEST_ADMIN_PASSWORD, Process, octopus_process

SETTLED = 30  # answers a round must have before the last second before its kill
WORKERS = 6
MARKER = re.compile(r"mark-\d+-\d+-\d+")
pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _env(db_url: URL) -> dict[str, str]:
    kind = {"postgresql": "postgres"}.get(db_url.get_backend_name(), db_url.get_backend_name())
    path = db_url.database if kind == "sqlite" else db_url.render_as_string(hide_password=False)
    return {"OCTOPUS_DATABASE_TYPE": kind, "OCTOPUS_DATABASE_PATH": str(path)}


async def _configure(admin: httpx.AsyncClient, fake: FakeUpstream) -> str:
    channel = await admin.post(
        "/api/v1/channel/create",
        json={
            "name": "load",
            "type": "openai",
            "base_url": fake.base("load", WireFormat.OPENAI_CHAT),
            "key": "sk-upstream-load-0123456789",
            "model": "m",
        },
    )
    group = await admin.post(
        "/api/v1/group/create",
        json={
            "name": "g",
            "items": [{"channel_id": channel.json()["data"]["id"], "model_name": "m"}],
        },
    )
    assert group.json()["code"] == 200, group.text
    keep = await admin.post("/api/v1/setting/set", json={"key": "log_body_mode", "value": "all"})
    assert keep.status_code == 200, keep.text  # the marker is found again in the logged body
    created = await admin.post("/api/v1/apikey/create", json={"name": "load"})
    return str(created.json()["data"]["api_key"])


async def _login(url: str) -> httpx.AsyncClient:
    admin = httpx.AsyncClient(base_url=url, timeout=30)
    login = {"username": "admin", "password": TEST_ADMIN_PASSWORD}
    (await admin.post("/api/v1/user/login", json=login)).raise_for_status()
    return admin


class Load:
    """Workers sending requests with unique markers; `acked` maps a marker to its answer's time."""

    def __init__(self, url: str, api_key: str) -> None:
        self.url, self.api_key = url, api_key
        self.sent: set[str] = set()
        self.acked: dict[str, float] = {}

    def answered(self, round_: int) -> int:
        return sum(1 for marker in self.acked if marker.startswith(f"mark-{round_}-"))

    async def worker(self, round_: int, worker: int) -> None:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        async with httpx.AsyncClient(base_url=self.url, headers=headers, timeout=10) as client:
            for n in range(1_000_000):
                marker = f"mark-{round_}-{worker}-{n}"
                body = {"model": "g", "messages": [{"role": "user", "content": marker}]}
                self.sent.add(marker)
                try:
                    response = await client.post("/v1/chat/completions", json=body)
                except httpx.HTTPError:
                    return  # the gateway was killed under us
                if response.status_code == 200:
                    self.acked[marker] = time.monotonic()


async def _logged_count(db_url: URL) -> int:
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            return int(
                (await conn.execute(select(func.count()).select_from(RequestLog))).scalar_one()
            )
    finally:
        await engine.dispose()


async def _just_before_a_flush(db_url: URL) -> None:
    """Watch two flushes land to learn the writer's period, then return 0.1 s before the next."""
    flushes: list[float] = []
    last = -1
    async with asyncio.timeout(30):
        while len(flushes) < 2:
            with contextlib.suppress(SQLAlchemyError):  # a busy SQLite file: look again
                count = await _logged_count(db_url)
                if 0 <= last < count:
                    flushes.append(time.monotonic())
                last = count
            await asyncio.sleep(0.01)
    period = flushes[1] - flushes[0]
    await asyncio.sleep(max(0.0, period - 0.1))


async def _round(proc: Process, load: Load, round_: int, db_url: URL, before_flush: bool) -> float:
    """Load, then SIGKILL; the kill's time."""
    workers = [asyncio.create_task(load.worker(round_, w)) for w in range(WORKERS)]
    async with asyncio.timeout(60):  # however busy the machine, enough is acknowledged first
        while load.answered(round_) < SETTLED:
            await asyncio.sleep(0.05)
    await asyncio.sleep(1.2)
    if before_flush:
        await _just_before_a_flush(db_url)
    proc.popen.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    await asyncio.gather(*workers)
    await asyncio.to_thread(proc.popen.wait, 10)
    return killed_at


async def _stored_markers(db_url: URL) -> list[str]:
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            bodies = (await conn.execute(select(RequestLogBody.request_body))).scalars().all()
    finally:
        await engine.dispose()
    return [found.group() for body in bodies if body and (found := MARKER.search(body))]


async def test_kill9_loses_nothing_acknowledged_over_a_second_before(
    db_url: URL, tmp_path: Path
) -> None:
    fake = await FakeUpstream().start()
    env = _env(db_url)
    settled: set[str] = set()
    load: Load | None = None
    try:
        for round_, before_flush in enumerate((False, True, True)):
            with octopus_process(tmp_path, env=env) as proc:
                admin = await _login(proc.url)
                api_key = await _configure(admin, fake) if load is None else load.api_key
                await admin.aclose()
                load = Load(proc.url, api_key) if load is None else load
                load.url = proc.url
                killed_at = await _round(proc, load, round_, db_url, before_flush)
            mine = {m for m, at in load.acked.items() if m.startswith(f"mark-{round_}-")}
            old = {m for m in mine if load.acked[m] <= killed_at - 1.0}
            assert len(old) >= SETTLED, f"round {round_}: the load must be real"
            settled |= old
        assert load is not None
        with octopus_process(tmp_path, env=env) as proc:
            admin = await _login(proc.url)
            logged = (await admin.get("/api/v1/log/page")).json()["data"]["total"]
            totals = (await admin.get("/api/v1/stats/total")).json()["data"]
            await admin.aclose()
        stored = await _stored_markers(db_url)
        assert len(stored) == len(set(stored)) == logged, "each request is logged once"
        lost = settled - set(stored)
        assert not lost, f"{len(lost)} requests acknowledged over 1 s before a kill were lost"
        assert set(stored) <= load.sent, "nothing is logged that was never sent"
        assert totals["request_success"] + totals["request_failed"] == logged
    finally:
        await fake.stop()
