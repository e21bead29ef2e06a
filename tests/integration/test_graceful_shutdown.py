"""SIGTERM: requests in flight (streams and plain answers) finish and are logged, new ones are
refused while draining, and the grace period bounds how long a request may hold the exit."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import openai
import pytest

from octopus.protocols import WireFormat
from tests.fakes.upstream import FakeUpstream, Fault
from tests.harness import TEST_ADMIN_PASSWORD, octopus_process


async def _configure(url: str, fake: FakeUpstream) -> str:
    """A channel, a failover group `slow` and an API key (returned), made by the admin."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as admin:
        return await _configure_as(admin, fake)


async def _configure_as(admin: httpx.AsyncClient, fake: FakeUpstream) -> str:
    login = {"username": "admin", "password": TEST_ADMIN_PASSWORD}
    (await admin.post("/api/v1/user/login", json=login)).raise_for_status()
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
    return str(key.json()["data"]["api_key"])


@pytest.mark.integration
async def test_sigterm_lets_the_stream_finish_and_flushes_the_log(tmp_path: Path) -> None:
    fake = await FakeUpstream().start()
    try:
        with octopus_process(tmp_path) as proc:
            api_key = await _configure(proc.url, fake)
            fake.script("slow", Fault(pieces=[f"part{i} " for i in range(12)], gap=0.15))
            pieces: list[str] = []
            async with _sdk(proc.url, api_key) as client:
                stream = await client.chat.completions.create(
                    model="slow", stream=True, messages=[{"role": "user", "content": "go"}]
                )
                async for chunk in stream:
                    if chunk.choices and chunk.choices[0].delta.content:
                        pieces.append(chunk.choices[0].delta.content)
                        if len(pieces) == 1:
                            proc.popen.send_signal(signal.SIGTERM)
            assert "".join(pieces) == "".join(f"part{i} " for i in range(12))
            code = await asyncio.to_thread(proc.popen.wait, 30)
            assert code == 0, proc.log()
        with octopus_process(tmp_path) as proc:
            async with httpx.AsyncClient(base_url=proc.url) as again:
                await again.post(
                    "/api/v1/user/login",
                    json={"username": "admin", "password": TEST_ADMIN_PASSWORD},
                )
                page = (await again.get("/api/v1/log/page")).json()["data"]
            assert page["total"] == 1
            assert page["items"][0]["status"] == "success"
    finally:
        await fake.stop()


def _sdk(url: str, api_key: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=url + "/v1", api_key=api_key, max_retries=0)


async def _logged(workdir: Path) -> list[dict[str, object]]:
    """The request log as a restarted gateway on the same data shows it."""
    with octopus_process(workdir) as proc:
        async with httpx.AsyncClient(base_url=proc.url) as again:
            login = {"username": "admin", "password": TEST_ADMIN_PASSWORD}
            (await again.post("/api/v1/user/login", json=login)).raise_for_status()
            page = (await again.get("/api/v1/log/page")).json()["data"]
    return list(page["items"])


async def _until(check: Callable[[], bool], what: str) -> None:
    async with asyncio.timeout(30):
        while not check():
            await asyncio.sleep(0.02)
    assert check(), what


@pytest.mark.integration
async def test_sigterm_lets_a_non_stream_answer_finish(tmp_path: Path) -> None:
    fake = await FakeUpstream().start()
    try:
        with octopus_process(tmp_path) as proc:
            api_key = await _configure(proc.url, fake)
            fake.script("slow", Fault(delay=2.0))  # the answer is on its way when SIGTERM comes
            async with _sdk(proc.url, api_key) as client:
                ask = client.chat.completions.create(
                    model="slow", messages=[{"role": "user", "content": "go"}]
                )
                pending = asyncio.ensure_future(ask)
                await _until(lambda: bool(fake.calls("slow")), "the request reached the upstream")
                proc.popen.send_signal(signal.SIGTERM)
                answer = await pending
            assert answer.choices[0].message.content == "hello from slow"
            assert await asyncio.to_thread(proc.popen.wait, 30) == 0, proc.log()
        assert [(e["status"], e["model"]) for e in await _logged(tmp_path)] == [("success", "slow")]
    finally:
        await fake.stop()


@pytest.mark.integration
async def test_no_new_request_is_taken_while_draining(tmp_path: Path) -> None:
    fake = await FakeUpstream().start()
    try:
        with octopus_process(tmp_path) as proc:
            api_key = await _configure(proc.url, fake)
            pieces = [f"part{i} " for i in range(10)]
            fake.script("slow", Fault(pieces=pieces, gap=0.3))
            text, refused = "", False
            async with _sdk(proc.url, api_key) as client, _sdk(proc.url, api_key) as late:
                stream = await client.chat.completions.create(
                    model="slow", stream=True, messages=[{"role": "user", "content": "go"}]
                )
                async for chunk in stream:
                    text += (chunk.choices[0].delta.content or "") if chunk.choices else ""
                    if text == "part0 ":
                        proc.popen.send_signal(signal.SIGTERM)
                        await _until(lambda: "Shutting down" in proc.log(), "draining began")
                        with pytest.raises(openai.APIConnectionError):
                            await late.chat.completions.create(
                                model="slow", messages=[{"role": "user", "content": "late"}]
                            )
                        refused = True
            assert refused
            assert text == "".join(pieces)  # the stream in flight still finished
            assert await asyncio.to_thread(proc.popen.wait, 30) == 0, proc.log()
        assert len(fake.calls("slow")) == 1  # the late request never reached an upstream
        assert [e["status"] for e in await _logged(tmp_path)] == ["success"]
    finally:
        await fake.stop()


@pytest.mark.integration
async def test_the_grace_period_ends_a_stream_that_outlasts_it(tmp_path: Path) -> None:
    fake = await FakeUpstream().start()
    env = {"OCTOPUS_SERVER_SHUTDOWN_GRACE_SECONDS": "1"}
    try:
        with octopus_process(tmp_path, env=env) as proc:
            api_key = await _configure(proc.url, fake)
            pieces = [f"part{i} " for i in range(20)]
            fake.script("slow", Fault(pieces=pieces, gap=1.0))  # 20 s: far past the grace
            received = b""
            async with (
                httpx.AsyncClient(timeout=60) as http,
                http.stream(
                    "POST",
                    proc.url + "/v1/chat/completions",
                    headers={"Authorization": f"Bearer {api_key}"},
                    json={"model": "slow", "messages": [], "stream": True},
                ) as resp,
            ):
                with contextlib.suppress(httpx.RemoteProtocolError):  # cut mid-body
                    async for chunk in resp.aiter_raw():
                        received += chunk
                        if b"part0 " in received and proc.popen.poll() is None:
                            proc.popen.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(proc.popen.wait, 30) == 0, proc.log()
            assert b"part0 " in received
            assert b"part19 " not in received  # cut at the grace period, not served to its end
            assert b"[DONE]" not in received
        logged = await _logged(tmp_path)
        assert [(e["status"], e["model"]) for e in logged] == [("canceled", "slow")]
    finally:
        await fake.stop()
