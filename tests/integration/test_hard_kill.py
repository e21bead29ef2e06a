"""`kill -9` under real relay load: at most the last second of request records is lost, and the
statistics still equal the logs after the restart."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx
import pytest

from octopus.protocols import WireFormat
from tests.fakes.upstream import FakeUpstream
from tests.harness import octopus_process

LOAD_SECONDS = 3.0
WORKERS = 8


async def _configure(admin: httpx.AsyncClient, fake: FakeUpstream) -> str:
    await admin.post("/api/v1/user/login", json={"username": "admin", "password": "admin"})
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
    await admin.post(
        "/api/v1/group/create",
        json={
            "name": "g",
            "items": [{"channel_id": channel.json()["data"]["id"], "model_name": "m"}],
        },
    )
    return str(
        (await admin.post("/api/v1/apikey/create", json={"name": "load"})).json()["data"]["api_key"]
    )


async def _load(url: str, api_key: str, until: float, acked: list[float]) -> None:
    headers = {"Authorization": f"Bearer {api_key}"}
    body = {"model": "g", "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as client:
        while time.monotonic() < until:
            try:
                response = await client.post("/v1/chat/completions", json=body)
            except httpx.HTTPError:
                return  # the gateway was killed under us
            if response.status_code == 200:
                acked.append(time.monotonic())


@pytest.mark.integration
@pytest.mark.slow
async def test_kill9_loses_at_most_the_last_second(tmp_path: Path) -> None:
    fake = await FakeUpstream().start()
    try:
        with octopus_process(tmp_path) as proc:
            async with httpx.AsyncClient(base_url=proc.url) as admin:
                api_key = await _configure(admin, fake)
            acked: list[float] = []
            until = time.monotonic() + LOAD_SECONDS + 5
            workers = [
                asyncio.create_task(_load(proc.url, api_key, until, acked)) for _ in range(WORKERS)
            ]
            await asyncio.sleep(LOAD_SECONDS)
            proc.popen.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            await asyncio.gather(*workers)
            await asyncio.to_thread(proc.popen.wait, 10)
        settled = sum(1 for t in acked if t <= killed_at - 1.0)
        assert settled > 50, "the load must be real"
        with octopus_process(tmp_path) as proc:
            async with httpx.AsyncClient(base_url=proc.url) as admin:
                await admin.post(
                    "/api/v1/user/login", json={"username": "admin", "password": "admin"}
                )
                logged = (await admin.get("/api/v1/log/page")).json()["data"]["total"]
                totals = (await admin.get("/api/v1/stats/total")).json()["data"]
        assert logged >= settled, (
            f"{settled - logged} requests acknowledged over 1 s before the kill were lost"
        )
        assert logged <= len(acked)
        assert totals["request_success"] + totals["request_failed"] == logged
    finally:
        await fake.stop()
