"""The admin stops a round that waits on a slow upstream: the request moves on at once, and the
stopped member is not cooled down."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import openai
import pytest

from octopus.protocols import WireFormat
from tests.fakes.upstream import FakeUpstream, Fault
from tests.harness import admin_client, serve, sqlite_settings


@pytest.mark.integration
async def test_stopped_round_moves_on_without_a_cooldown(tmp_path: Path) -> None:
    fake = await FakeUpstream().start()
    try:
        async with serve(sqlite_settings(tmp_path)) as gw:
            admin = await admin_client(gw)
            ids = []
            for name in ("slow", "fast"):
                made = await admin.post(
                    "/api/v1/channel/create",
                    json={
                        "name": name,
                        "type": "openai",
                        "key": f"sk-upstream-{name}-0123456789",
                        "base_url": fake.base(name, WireFormat.OPENAI_CHAT),
                        "model": "m",
                    },
                )
                ids.append(made.json()["data"]["id"])
            await admin.post(
                "/api/v1/group/create",
                json={
                    "name": "g",
                    "mode": "failover",
                    "items": [
                        {"channel_id": i, "model_name": "m", "priority": p}
                        for p, i in enumerate(ids)
                    ],
                },
            )
            key = (await admin.post("/api/v1/apikey/create", json={"name": "k"})).json()["data"][
                "api_key"
            ]
            client = openai.AsyncOpenAI(base_url=gw.url + "/v1", api_key=key, max_retries=0)
            fake.script("slow", Fault(delay=20))
            ask = {"model": "g", "messages": [{"role": "user", "content": "hi"}]}
            began = time.monotonic()
            pending = asyncio.create_task(client.chat.completions.create(**ask))  # type: ignore[call-overload]
            relay = gw.app.services.relay
            while not relay.running_rounds():
                await asyncio.sleep(0.01)
            ((request_id, number),) = relay.running_rounds().items()
            assert number == 1
            wrong = await admin.post(f"/api/v1/log/{request_id}/2/stop", json={})
            assert wrong.status_code == 404
            stopped = await admin.post(f"/api/v1/log/{request_id}/1/stop", json={})
            assert stopped.status_code == 204
            answer = await pending
            assert answer.choices[0].message.content == "hello from fast"
            assert time.monotonic() - began < 10, "the stop did not cut the 20 s wait short"
            assert [c.tag for c in fake.calls()] == ["slow", "fast"]
            await client.chat.completions.create(**ask)  # type: ignore[call-overload]
            assert fake.calls()[-1].tag == "slow", "a stopped member must not be cooled down"
            for _ in range(50):
                page = (await admin.get("/api/v1/log/page")).json()["data"]
                if page["total"] >= 2:
                    break
                await asyncio.sleep(0.1)
            first = (await admin.get(f"/api/v1/log/{request_id}")).json()["data"]
            assert [a["outcome"] for a in first["attempts"]] == ["stopped", "success"]
            await client.close()
            await admin.aclose()
    finally:
        await fake.stop()
