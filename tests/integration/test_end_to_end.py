"""The whole product through its front doors: configure by the admin API, call with the SDKs,
read the request log and statistics back — on each of the three databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest
from sqlalchemy.engine import URL

from octopus.protocols import WireFormat
from tests.admin.conftest import url_settings
from tests.fakes.upstream import FakeUpstream, Fault
from tests.harness import admin_client, serve, sqlite_settings


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    upstream = await FakeUpstream().start()
    try:
        yield upstream
    finally:
        await upstream.stop()


async def _setup(admin: httpx.AsyncClient, fake: FakeUpstream) -> str:
    channels = []
    for name, kind in (("primary", WireFormat.OPENAI_CHAT), ("backup", WireFormat.ANTHROPIC)):
        created = await admin.post(
            "/api/v1/channel/create",
            json={
                "name": name,
                "type": kind.value,
                "base_url": fake.base(name, kind),
                "key": f"sk-upstream-{name}-0123456789",
                "model": "gpt-test,claude-test",
            },
        )
        assert created.json()["code"] == 200, created.text
        channels.append(created.json()["data"]["id"])
    group = await admin.post(
        "/api/v1/group/create",
        json={
            "name": "smart",
            "mode": "failover",
            "items": [
                {"channel_id": channels[0], "model_name": "gpt-test", "priority": 1},
                {"channel_id": channels[1], "model_name": "claude-test", "priority": 2},
            ],
        },
    )
    assert group.json()["code"] == 200, group.text
    key = await admin.post("/api/v1/apikey/create", json={"name": "laptop"})
    api_key: str = key.json()["data"]["api_key"]
    assert api_key.startswith("sk-octopus-")
    return api_key


async def _wait_for_logs(admin: httpx.AsyncClient, count: int) -> list[dict[str, object]]:
    for _ in range(100):
        page = (await admin.get("/api/v1/log/page", params={"page_size": 50})).json()["data"]
        if page["total"] >= count:
            return list(page["items"])
        await asyncio.sleep(0.1)
    raise AssertionError("request logs did not arrive")


@pytest.mark.integration
async def test_configure_call_failover_and_account(
    db_url: URL, tmp_path: Path, fake: FakeUpstream
) -> None:
    async with serve(url_settings(db_url, tmp_path)) as gw:
        admin = await admin_client(gw)
        api_key = await _setup(admin, fake)
        client = openai.AsyncOpenAI(base_url=gw.url + "/v1", api_key=api_key, max_retries=0)

        first = await client.chat.completions.create(
            model="smart", messages=[{"role": "user", "content": "hi"}]
        )
        assert first.choices[0].message.content == "hello from primary"
        fake.script("primary", Fault(status=500))
        second = await client.chat.completions.create(
            model="smart", messages=[{"role": "user", "content": "again"}]
        )
        # served by the Anthropic channel, converted
        assert second.choices[0].message.content == "hello from backup"
        assert [c.tag for c in fake.calls()][-2:] == ["primary", "backup"]

        claude = anthropic.AsyncAnthropic(base_url=gw.url, api_key=api_key, max_retries=0)
        async with claude.messages.stream(
            model="smart", max_tokens=64, messages=[{"role": "user", "content": "stream"}]
        ) as stream:
            text = "".join([piece async for piece in stream.text_stream])
        assert text == f"hello from {fake.tags()[-1]}"
        assert fake.tags()[-1] == "backup"  # the failed primary is cooling down

        await client.close()
        await claude.close()
        logs = await _wait_for_logs(admin, 3)
        await _check_logs_and_stats(admin, logs)
        await admin.aclose()


async def _check_logs_and_stats(admin: httpx.AsyncClient, logs: list[dict[str, object]]) -> None:
    assert len(logs) == 3
    assert {entry["status"] for entry in logs} == {"success"}
    assert {entry["api_key_name"] for entry in logs} == {"laptop"}
    failover = [entry for entry in logs if entry["channel_name"] == "backup"]
    assert failover, logs
    first_failover = min(failover, key=lambda entry: int(str(entry["id"])))
    detail = (await admin.get(f"/api/v1/log/{first_failover['id']}")).json()["data"]
    outcomes = [attempt["outcome"] for attempt in detail["attempts"]]
    assert outcomes[-1] == "success"
    assert "failed" in outcomes
    total = (await admin.get("/api/v1/stats/total")).json()["data"]
    assert total["request_success"] == len(logs)
    tokens = sum(int(e["input_tokens"]) + int(e["output_tokens"]) for e in logs)  # type: ignore[call-overload]
    assert total["input_token"] + total["output_token"] == tokens


@pytest.mark.integration
async def test_refusals_of_known_keys_are_logged(tmp_path: Path, fake: FakeUpstream) -> None:
    async with serve(sqlite_settings(tmp_path)) as gw:
        admin = await admin_client(gw)
        api_key = await _setup(admin, fake)
        limited = await admin.post(
            "/api/v1/apikey/create", json={"name": "narrow", "supported_models": "other"}
        )
        narrow = openai.AsyncOpenAI(
            base_url=gw.url + "/v1", api_key=limited.json()["data"]["api_key"], max_retries=0
        )
        stranger = openai.AsyncOpenAI(
            base_url=gw.url + "/v1", api_key="sk-octopus-" + "x" * 48, max_retries=0
        )
        ask = [{"role": "user", "content": "hi"}]
        with pytest.raises(openai.PermissionDeniedError):
            await narrow.chat.completions.create(model="smart", messages=ask)  # type: ignore[arg-type]
        with pytest.raises(openai.AuthenticationError):
            await stranger.chat.completions.create(model="smart", messages=ask)  # type: ignore[arg-type]
        # a later logged request: once its line is in, the stranger's would be too (FIFO writer)
        known = openai.AsyncOpenAI(base_url=gw.url + "/v1", api_key=api_key, max_retries=0)
        await known.chat.completions.create(model="smart", messages=ask)  # type: ignore[arg-type]
        for client in (narrow, stranger, known):
            await client.close()
        logs = await _wait_for_logs(admin, 2)
        assert [(e["api_key_name"], e["status"], e["http_status"], e["model"]) for e in logs] == [
            ("laptop", "success", 200, "smart"),
            ("narrow", "failed", 403, "smart"),
        ]
        await admin.aclose()
