"""SIGKILL one of three instances under load: the others keep serving and keep every answer."""

from __future__ import annotations

import asyncio
import signal

import openai
import pytest

from tests.cluster.fleet import answers, make_routing
from tests.cluster.harness import Cluster, Instance, login, wait_ready, within
from tests.fakes.upstream import FakeUpstream

pytestmark = pytest.mark.integration


async def _load(gateway: Instance, api_key: str, stop: asyncio.Event) -> list[int]:
    codes: list[int] = []
    while not stop.is_set():
        codes.append(await answers(gateway, api_key))
    return codes


async def test_killing_one_instance_under_load_loses_nothing_the_others_answered(
    pg_cluster: Cluster, upstream: FakeUpstream
) -> None:
    instances = [pg_cluster.launch(name) for name in ("a", "b", "c")]
    await asyncio.gather(*(wait_ready(i) for i in instances))
    a, b, c = instances
    async with login(a) as admin:
        routing = await make_routing(admin, upstream)
        made = await admin.post("/api/v1/apikey/create", json={"name": "victim"})
        victim_key = made.json()["data"]["api_key"]  # the killed instance's traffic, counted apart
        await asyncio.sleep(1.2)  # live everywhere
        stop, killed = asyncio.Event(), asyncio.Event()
        survivors = [asyncio.create_task(_load(g, routing.api_key, stop)) for g in (a, b, a, b)]
        victim = asyncio.create_task(_victim_load(c, victim_key, stop, killed))
        await asyncio.sleep(2.0)
        c.kill(signal.SIGKILL)
        killed.set()
        await asyncio.sleep(2.0)
        stop.set()
        answered = [code for task in survivors for code in await task]
        before, after = await victim
        assert before, "c served before it was killed"
        assert set(before) == {200}, before
        assert after > 0, "requests to c failed to connect once it was killed"
        assert answered, "the survivors served"
        assert set(answered) == {200}, "no survivor request failed because c died"
        ok = len(answered)

        async def all_logged() -> bool:
            query = {"page": 1, "page_size": 1, "api_key_id": routing.key_id}
            page = await admin.get("/api/v1/log/page", params=query)
            return int(page.json()["data"]["total"]) == ok

        await within(all_logged, 10.0, f"the survivors' {ok} answers logged exactly once")


async def _victim_load(
    gateway: Instance, api_key: str, stop: asyncio.Event, killed: asyncio.Event
) -> tuple[list[int], int]:
    """Requests to the instance that gets killed: the codes it answered, then how many failed to
    connect (or lost their connection) after the kill."""
    before: list[int] = []
    refused = 0
    while not stop.is_set():
        try:
            code = await answers(gateway, api_key)
        except openai.APIConnectionError:  # refused / dropped: only once c is gone
            assert killed.is_set(), "c dropped a connection before it was killed"
            refused += 1
            await asyncio.sleep(0.05)
            continue
        if killed.is_set():
            continue  # an answer already under way when the signal landed
        before.append(code)
    return before, refused
