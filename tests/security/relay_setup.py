"""Helpers for the relay-side attacks: a real `octopus start`, configured through the admin API."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from octopus.protocols import WireFormat
from tests.fakes.upstream import FakeUpstream
from tests.security.conftest import bearer, login

TYPES = {
    WireFormat.OPENAI_CHAT: "openai",
    WireFormat.OPENAI_RESPONSES: "openai_responses",
    WireFormat.ANTHROPIC: "anthropic",
    WireFormat.GEMINI: "gemini",
}


def admin(url: str) -> httpx.Client:
    """An admin API client holding a session token (use it in a `with`)."""
    return httpx.Client(base_url=url, timeout=30, headers=bearer(login(url)))


def data(reply: httpx.Response) -> Any:
    assert reply.status_code == 200, reply.text
    return reply.json().get("data")


def add_channel(
    client: httpx.Client,
    fake: FakeUpstream,
    tag: str,
    *,
    keys: list[str] | None = None,
    kind: WireFormat = WireFormat.OPENAI_CHAT,
) -> int:
    body = {
        "name": tag,
        "type": TYPES[kind],
        "base_url": fake.base(tag, kind),
        "keys": [{"key": k} for k in keys or [f"sk-upstream-{tag}-0123456789abcdef"]],
        "model": "m",
    }
    return int(data(client.post("/api/v1/channel/create", json=body))["id"])


def add_group(client: httpx.Client, name: str, channel_ids: list[int]) -> None:
    items = [{"channel_id": c, "model_name": "m", "priority": i} for i, c in enumerate(channel_ids)]
    data(
        client.post("/api/v1/group/create", json={"name": name, "mode": "failover", "items": items})
    )


def add_key(client: httpx.Client, name: str, **limits: object) -> str:
    created = data(client.post("/api/v1/apikey/create", json={"name": name, **limits}))
    return str(created["api_key"])


def set_price(client: httpx.Client, model: str, *, input: float, output: float) -> None:
    price = {"name": model, "input": input, "output": output, "cache_read": 0, "cache_write": 0}
    data(client.post("/api/v1/model/create", json=price))


def logs(client: httpx.Client, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """The newest request log rows once at least `count` are written (the writer batches)."""
    rows: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = data(client.get("/api/v1/log/list", params={"page_size": 200}))
        if len(rows) >= count:
            return rows
        time.sleep(0.2)
    raise AssertionError(f"{len(rows)} log rows after {timeout}s, expected {count}")


def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"condition not reached in {timeout}s")
