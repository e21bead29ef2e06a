"""What two real Go-Octopus clients require of an answer, as field -> type facts.

all-api-hub (qixing-jk/all-api-hub, src/services/apiService/octopus/): auth.ts decides the
contract from the login reply — `{token: non-empty string, expire_at: string}` selects the
JWT-era ("legacy") codec, which passes data through as its OctopusChannel type; the cookie-era
("current") codec validates every channel strictly (current.ts: `parseCurrentChannel`).

Android (Elykia093/Octopus-Mobile, package com.elykia.octopus, OctopusApiService): kotlinx
serialization with ignoreUnknownKeys and explicitNulls=false; a constructor field without a
default is required and must have the declared type.
"""

from __future__ import annotations

from typing import Any

INT, NUM, STR, BOOL, LIST, OBJ = "int", "number", "string", "bool", "list", "object"
CURRENT_TYPES = ("openai", "openai_responses", "anthropic", "gemini", "volcengine")

# all-api-hub current.ts: parseCurrentChannel / parseCurrentStats
HUB_CURRENT_CHANNEL = {
    "id": INT,
    "name": STR,
    "enabled": BOOL,
    "base_url": STR,
    "key": STR,
    "model": STR,
    "proxy": BOOL,
    "auto_sync": BOOL,
}
HUB_CURRENT_STATS = {
    "channel_id": INT,
    "input_token": NUM,
    "output_token": NUM,
    "input_cost": NUM,
    "output_cost": NUM,
    "wait_time": NUM,
    "request_success": NUM,
    "request_failed": NUM,
}
# all-api-hub types/octopus.ts OctopusChannel, what its legacy-mode UI reads
HUB_LEGACY_CHANNEL = {
    "id": INT,
    "name": STR,
    "enabled": BOOL,
    "base_urls": LIST,
    "keys": LIST,
    "model": STR,
    "proxy": BOOL,
    "auto_sync": BOOL,
    "auto_group": INT,
}

# Android ApiModels.kt: the fields without a default value
ANDROID_LOGIN = {"token": STR, "expire_at": STR}
ANDROID_STATS_DAILY = {"date": STR}
ANDROID_STATS_HOURLY = {"hour": INT, "date": STR}
ANDROID_LLM_INFO = {"name": STR}
ANDROID_LLM_CHANNEL = {"name": STR, "enabled": BOOL, "channel_id": INT, "channel_name": STR}
ANDROID_SETTING = {"key": STR, "value": STR}
ANDROID_API_KEY = {"id": INT, "name": STR, "api_key": STR}
ANDROID_RELAY_LOG = {
    "id": INT,
    "time": INT,
    "request_model_name": STR,
    "channel": INT,
    "channel_name": STR,
    "actual_model_name": STR,
    "input_tokens": INT,
    "output_tokens": INT,
    "ftut": INT,
    "use_time": INT,
    "cost": NUM,
    "request_content": STR,
    "response_content": STR,
    "error": STR,
}
ANDROID_CHANNEL_KEY = {"channel_key": STR}
ANDROID_GROUP_ITEM = {"channel_id": INT, "model_name": STR}
ANDROID_IMPORT = {"rows_affected": OBJ}


def _is(value: Any, kind: str) -> bool:
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == NUM:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == STR:
        return isinstance(value, str)
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == LIST:
        return isinstance(value, list)
    return isinstance(value, dict)


def require(doc: Any, fields: dict[str, str], where: str) -> None:
    """Fail like the client's parser would: a missing field or one of another type."""
    assert isinstance(doc, dict), f"{where}: not an object: {doc!r}"
    for name, kind in fields.items():
        assert name in doc, f"{where}: '{name}' is missing"
        assert _is(doc[name], kind), f"{where}: '{name}' is not a {kind}: {doc[name]!r}"


def require_each(docs: Any, fields: dict[str, str], where: str) -> None:
    assert isinstance(docs, list), f"{where}: not a list: {docs!r}"
    for index, doc in enumerate(docs):
        require(doc, fields, f"{where}[{index}]")


def hub_current_channel(doc: Any) -> None:
    """current.ts parseCurrentChannel: strict types, a known `type`, headers a list or null."""
    require(doc, HUB_CURRENT_CHANNEL, "channel")
    assert doc["type"] in CURRENT_TYPES, doc["type"]
    assert doc.get("custom_header") is None or isinstance(doc["custom_header"], list)
    if doc.get("stats") is not None:
        require(doc["stats"], HUB_CURRENT_STATS, "channel.stats")
