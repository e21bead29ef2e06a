"""One Go v0.13 "generic" channel serving four protocols from one base URL: each SDK's request
reaches its own path untouched when the grant allows it, and is converted when it does not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.admin.conftest import data, error
from tests.fakes.upstream import FakeUpstream
from tests.harness import Gateway, admin_client, serve, sqlite_settings
from tests.relay.clients import PROTOCOLS, sdk_text

MAIN, ALT = "sk-main-0123456789abcdef", "sk-alt-0123456789abcdef"
PATHS = {
    "openai": "/v1/chat/completions",
    "responses": "/v1/responses",
    "anthropic": "/v1/messages",
    "gemini": "/v1beta/models/m1:generateContent",
}


def generic_body(base: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "one-url",
        "dialect": "generic",
        "base_url": base,
        "openai_chat_completion_path": "/v1/chat/completions",
        "openai_response_path": "/v1/responses",
        "anthropic_message_path": "/v1/messages",
        "gemini_path": "/v1beta",
        "keys": [{"name": "main", "key": MAIN}, {"name": "alt", "key": ALT, "enabled": True}],
        "models": ["m1", "m2"],
        # m1: every protocol with the main key; m2: Chat Completions only, with the alt key
        "grants": [
            {"model_name": "m1", "key_name": "main", "protocols": 2 | 4 | 8 | 16},
            {"model_name": "m2", "key_name": "alt", "protocols": 2},
        ],
        **extra,
    }


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[Gateway, httpx.AsyncClient, FakeUpstream]]:
    fake = await FakeUpstream().start()
    async with serve(sqlite_settings(tmp_path)) as gateway:
        admin = await admin_client(gateway)
        try:
            yield gateway, admin, fake
        finally:
            await admin.aclose()
            await fake.stop()


async def _setup(admin: httpx.AsyncClient, fake: FakeUpstream) -> tuple[dict[str, Any], str]:
    made = data(await admin.post("/api/v1/channel/create", json=generic_body(f"{fake.url}/gen")))
    for group, model in (("g1", "m1"), ("g2", "m2")):
        items = [{"channel_id": made["id"], "model_name": model}]
        data(await admin.post("/api/v1/group/create", json={"name": group, "items": items}))
    key = data(await admin.post("/api/v1/apikey/create", json={"name": "k"}))["api_key"]
    return made, str(key)


async def test_each_protocol_passes_through_to_its_own_path(
    world: tuple[Gateway, httpx.AsyncClient, FakeUpstream],
) -> None:
    gateway, admin, fake = world
    made, key = await _setup(admin, fake)
    assert made["type"] == "openai"  # the first protocol served
    assert made["dialect"] == "generic"
    assert made["gemini_path"] == "/v1beta"
    assert made["models"] == ["m1", "m2"]
    assert [k["name"] for k in made["keys"]] == ["main", "alt"]
    for protocol in PROTOCOLS:
        text = await sdk_text(protocol, gateway.url, key, model="g1")
        assert text == "hello from gen", protocol
        call = fake.calls("gen")[-1]
        assert call.path == PATHS[protocol], protocol
        sent = call.headers.get("authorization") or call.headers.get("x-api-key") or ""
        sent = sent or call.headers.get("x-goog-api-key", "")
        assert sent.removeprefix("Bearer ") == MAIN, protocol


async def test_same_protocol_answer_is_byte_identical(
    world: tuple[Gateway, httpx.AsyncClient, FakeUpstream],
) -> None:
    gateway, admin, fake = world
    _, key = await _setup(admin, fake)
    body = {"model": "g1", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"x-api-key": key, "anthropic-version": "2023-06-01"}
    async with httpx.AsyncClient(base_url=gateway.url) as client:
        answer = await client.post("/v1/messages", json=body, headers=headers)
    assert answer.status_code == 200
    assert answer.content == fake.sent["gen"]
    assert fake.calls("gen")[-1].path == "/v1/messages"


async def test_ungranted_protocol_is_converted_from_a_granted_one(
    world: tuple[Gateway, httpx.AsyncClient, FakeUpstream],
) -> None:
    gateway, admin, fake = world
    _, key = await _setup(admin, fake)
    for protocol in ("anthropic", "gemini", "responses"):
        assert await sdk_text(protocol, gateway.url, key, model="g2") == "hello from gen"
        call = fake.calls("gen")[-1]
        assert call.path == "/v1/chat/completions", protocol  # m2 is granted Chat only
        assert call.headers["authorization"] == f"Bearer {ALT}", protocol


async def test_v013_routes_and_fetch_model(
    world: tuple[Gateway, httpx.AsyncClient, FakeUpstream],
) -> None:
    _, admin, fake = world
    made, _ = await _setup(admin, fake)
    detail = data(await admin.get(f"/api/v1/channel/detail/{made['id']}"))
    assert detail["grants"] == made["grants"]
    assert detail["openai_response_path"] == "/v1/responses"
    listed = data(await admin.get("/api/v1/channel/stats"))
    assert [s["channel_id"] for s in listed] == [made["id"]]
    fake.models["gen"] = ["m1", "m2", "m3"]
    asked = {"channel": generic_body(f"{fake.url}/gen"), "key": "alt"}  # a key by its name
    assert data(await admin.post("/api/v1/channel/fetch-model", json=asked)) == ["m1", "m2", "m3"]
    call = fake.calls("gen")[-1]
    assert (call.path, call.headers["authorization"]) == ("/v1/models", f"Bearer {ALT}")
    error(await admin.get("/api/v1/channel/detail/999"), 404)


async def test_update_keeps_grants_consistent(
    world: tuple[Gateway, httpx.AsyncClient, FakeUpstream],
) -> None:
    _, admin, fake = world
    made, _ = await _setup(admin, fake)
    narrower = {
        "id": made["id"],
        "grants": [{"model_name": "m1", "key_name": "alt", "protocols": 8}],
    }
    updated = data(await admin.post("/api/v1/channel/update", json=narrower))
    assert updated["grants"] == narrower["grants"]
    no_path = {"id": made["id"], "anthropic_message_path": ""}
    refused = error(await admin.post("/api/v1/channel/update", json=no_path), 400)
    assert "the channel has no anthropic_message_path" in refused  # the grant above needs it
    # a path no grant uses can go; the others stay as they were
    fewer = data(
        await admin.post("/api/v1/channel/update", json={"id": made["id"], "gemini_path": ""})
    )
    assert fewer["gemini_path"] == ""
    assert fewer["openai_chat_completion_path"] == "/v1/chat/completions"
    assert fewer["anthropic_message_path"] == "/v1/messages"


BAD_GRANTS = [
    ([{"model_name": "m1", "key_name": "nobody", "protocols": 2}], "no key is named 'nobody'"),
    ([{"model_name": "m9", "key_name": "main", "protocols": 2}], "model 'm9' is not one of"),
    ([{"model_name": "m1", "key_name": "main", "protocols": 1}], "bitmask of chat 2"),
    ([{"model_name": "m1", "key_name": "main", "protocols": 32}], "bitmask of chat 2"),
    ([{"model_name": "m1", "key_name": "main"}], "bitmask of chat 2"),
]


@pytest.mark.parametrize(("grants", "message"), BAD_GRANTS)
async def test_bad_grants_are_refused(
    world: tuple[Gateway, httpx.AsyncClient, FakeUpstream], grants: list[Any], message: str
) -> None:
    _, admin, fake = world
    body = generic_body(f"{fake.url}/gen", grants=grants)
    assert message in error(await admin.post("/api/v1/channel/create", json=body), 400)


async def test_a_grant_needs_the_protocols_path(
    world: tuple[Gateway, httpx.AsyncClient, FakeUpstream],
) -> None:
    _, admin, fake = world
    body = generic_body(f"{fake.url}/gen", gemini_path="")
    assert "no gemini_path" in error(await admin.post("/api/v1/channel/create", json=body), 400)
    bare = generic_body(f"{fake.url}/gen", grants=[], openai_chat_completion_path="")
    for field in ("openai_response_path", "anthropic_message_path", "gemini_path"):
        bare[field] = ""
    assert "needs at least one of" in error(
        await admin.post("/api/v1/channel/create", json=bare), 400
    )
