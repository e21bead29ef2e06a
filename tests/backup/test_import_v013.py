"""A Go v0.13 dump — generic channels with paths, named keys, models and grants, a group with
match_regex — imports on every database, routes as it says, and survives our own export."""

from __future__ import annotations

from typing import Any

from octopus.protocols import WireFormat
from octopus.store import backup
from octopus.store.catalog_loader import load_catalog
from octopus.store.database import Database
from tests.backup.conftest import run

V013_DUMP: dict[str, Any] = {
    "version": 2,
    "channels": [
        {
            "id": 7,
            "name": "one-url",
            "dialect": "generic",
            "enabled": True,
            "base_url": "https://api.example.com",
            "openai_chat_completion_path": "/v1/chat/completions",
            "anthropic_message_path": "/v1/messages",
            "keys": [
                {"name": "main", "key": "sk-main-0123456789", "enabled": True},
                {"name": "spare", "key": "sk-spare-0123456789", "enabled": False},
            ],
            "models": ["claude-x", "gpt-x"],
            "grants": [
                {"model_name": "claude-x", "key_name": "main", "protocols": 8},
                {"model_name": "gpt-x", "key_name": "spare", "protocols": 2 | 8},
                {"model_name": "gpt-x", "key_name": "main", "protocols": 2},
            ],
        },
        {
            "id": 8,
            "name": "plain",
            "type": "volcengine",
            "base_url": "https://ark.x/api/v3",
            "key": "ark-0123456789",
            "model": "doubao",
        },
    ],
    "groups": [{"id": 3, "name": "claude", "mode": "failover", "match_regex": "^claude-"}],
    "group_items": [{"id": 30, "group_id": 3, "channel_id": 7, "model_name": "claude-x"}],
}


async def test_v013_dump_imports_and_routes(database: Database) -> None:
    report = await run(database, V013_DUMP)
    assert report.rows_affected["channels"] == 2
    assert report.rows_affected["channel_keys"] == 3
    async with database.sessions() as session:
        catalog = await load_catalog(session, None)
        exported = await backup.export_dump(session, include_stats=False, now=0.0)
    generic = catalog.channels[7]
    assert generic.type is WireFormat.OPENAI_CHAT  # the first protocol it serves
    assert generic.models == {"claude-x", "gpt-x"}
    assert dict(generic.endpoints) == {
        WireFormat.OPENAI_CHAT: "https://api.example.com/v1/chat/completions##",
        WireFormat.ANTHROPIC: "https://api.example.com/v1/messages##",
    }
    main, spare = (k.id for k in generic.keys)
    assert generic.grants is not None
    assert dict(generic.grants["claude-x"]) == {WireFormat.ANTHROPIC: {main}}
    assert dict(generic.grants["gpt-x"]) == {
        WireFormat.OPENAI_CHAT: {main, spare},
        WireFormat.ANTHROPIC: {spare},
    }
    assert catalog.channels[8].base_url == "https://ark.x/api/v3"
    (channel, plain) = exported["channels"]
    assert channel["dialect"] == "generic"
    assert channel["protocol_paths"] == {
        "openai": "/v1/chat/completions",
        "anthropic": "/v1/messages",
    }
    assert [k["name"] for k in channel["keys"]] == ["main", "spare"]
    assert plain["type"] == "volcengine"
    assert exported["groups"][0]["match_regex"] == "^claude-"
