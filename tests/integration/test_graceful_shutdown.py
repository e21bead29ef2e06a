"""SIGTERM while a stream is in flight: the stream finishes, the record is written, exit 0."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import openai
import pytest

from octopus.protocols import WireFormat
from tests.fakes.upstream import FakeUpstream, Fault
from tests.harness import octopus_process


async def _configure(url: str, fake: FakeUpstream) -> tuple[httpx.AsyncClient, str]:
    admin = httpx.AsyncClient(base_url=url, timeout=30)
    await admin.post("/api/v1/user/login", json={"username": "admin", "password": "admin"})
    channel = await admin.post(
        "/api/v1/channel/create",
        json={
            "name": "slow",
            "type": "openai",
            "base_url": fake.base("slow", WireFormat.OPENAI_CHAT),
            "key": "sk-upstream-slow-0123456789",
            "model": "gpt-slow",
        },
    )
    channel_id = channel.json()["data"]["id"]
    await admin.post(
        "/api/v1/group/create",
        json={
            "name": "slow",
            "mode": "failover",
            "items": [{"channel_id": channel_id, "model_name": "gpt-slow", "priority": 1}],
        },
    )
    key = await admin.post("/api/v1/apikey/create", json={"name": "ci"})
    return admin, key.json()["data"]["api_key"]


@pytest.mark.integration
async def test_sigterm_lets_the_stream_finish_and_flushes_the_log(tmp_path: Path) -> None:
    fake = await FakeUpstream().start()
    try:
        with octopus_process(tmp_path) as proc:
            admin, api_key = await _configure(proc.url, fake)
            fake.script("slow", Fault(pieces=[f"part{i} " for i in range(12)], gap=0.15))
            client = openai.AsyncOpenAI(base_url=proc.url + "/v1", api_key=api_key, max_retries=0)
            stream = await client.chat.completions.create(
                model="slow", stream=True, messages=[{"role": "user", "content": "go"}]
            )
            pieces: list[str] = []
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    pieces.append(chunk.choices[0].delta.content)
                    if len(pieces) == 1:
                        proc.popen.send_signal(signal.SIGTERM)
            await admin.aclose()
            await client.close()
            assert "".join(pieces) == "".join(f"part{i} " for i in range(12))
            code = await asyncio.to_thread(proc.popen.wait, 30)
            assert code == 0, proc.log()
        with octopus_process(tmp_path) as proc:
            async with httpx.AsyncClient(base_url=proc.url) as again:
                await again.post(
                    "/api/v1/user/login", json={"username": "admin", "password": "admin"}
                )
                page = (await again.get("/api/v1/log/page")).json()["data"]
            assert page["total"] == 1
            assert page["items"][0]["status"] == "success"
    finally:
        await fake.stop()
