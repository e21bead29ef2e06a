"""What several cluster tests set up through the admin API: channels, a group, a key; requests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import openai

from octopus.protocols import WireFormat
from tests.cluster.harness import Instance
from tests.fakes.upstream import FakeUpstream

ASK = {"model": "g", "messages": [{"role": "user", "content": "hi"}]}


@dataclass
class Routing:
    channel_ids: list[int]
    group_id: int
    api_key: str
    key_id: int
    item_ids: list[int]


async def make_channel(admin: httpx.AsyncClient, upstream: FakeUpstream, tag: str) -> int:
    created = await admin.post(
        "/api/v1/channel/create",
        json={
            "name": tag,
            "type": "openai",
            "base_url": upstream.base(tag, WireFormat.OPENAI_CHAT),
            "key": f"sk-upstream-{tag}-0123456789",
            "model": "m",
        },
    )
    created.raise_for_status()
    return int(created.json()["data"]["id"])


async def make_routing(
    admin: httpx.AsyncClient,
    upstream: FakeUpstream,
    tags: tuple[str, ...] = ("c1",),
    mode: str = "round_robin",
    relay_config: dict[str, object] | None = None,
    key: dict[str, object] | None = None,
) -> Routing:
    """Channels (one per tag, model `m`), group `g` over them in `mode`, and an API key."""
    channel_ids = [await make_channel(admin, upstream, tag) for tag in tags]
    group = await admin.post(
        "/api/v1/group/create",
        json={
            "name": "g",
            "mode": mode,
            "items": [{"channel_id": cid, "model_name": "m"} for cid in channel_ids],
            **({"relay_config": relay_config} if relay_config else {}),
        },
    )
    group.raise_for_status()
    created = await admin.post("/api/v1/apikey/create", json={"name": "k", **(key or {})})
    created.raise_for_status()
    data, made = created.json()["data"], group.json()["data"]
    items = [int(i["id"]) for i in made["items"]]
    return Routing(channel_ids, int(made["id"]), data["api_key"], int(data["id"]), items)


def sdk(instance: Instance, api_key: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=instance.url + "/v1", api_key=api_key, max_retries=0, timeout=30
    )


async def answers(instance: Instance, api_key: str) -> int:
    """The HTTP status one chat request gets (200, or the SDK's error status)."""
    async with sdk(instance, api_key) as client:
        try:
            await client.chat.completions.create(**ASK)  # type: ignore[call-overload]
        except openai.APIStatusError as exc:
            return exc.status_code
    return 200


async def all_answer(instances: list[Instance], api_key: str, status: int) -> bool:
    codes = await asyncio.gather(*(answers(i, api_key) for i in instances))
    return all(code == status for code in codes)


async def worker_pids(instance: Instance, want: int, tries: int = 200) -> set[int]:
    """Worker pids answering on `instance`'s port; a new connection per probe spreads them."""
    seen: set[int] = set()
    for _ in range(tries):
        async with httpx.AsyncClient(base_url=instance.url, timeout=5) as client:
            seen.add(int((await client.get("/readyz")).json()["pid"]))
        if len(seen) >= want:
            break
    return seen


async def ask(instance: Instance, api_key: str) -> httpx.Response:
    """One chat request on a connection of its own (so the kernel picks any worker)."""
    async with instance.client() as client:
        headers = {"Authorization": f"Bearer {api_key}"}
        return await client.post("/v1/chat/completions", json=ASK, headers=headers)
