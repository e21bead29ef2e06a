"""A backup import is checked like the admin API's create routes: what the API refuses, a file
cannot store either; nothing is written when one row is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness import Process, octopus_process
from tests.security.conftest import bearer, login, no_traceback


def _dump(**changes: Any) -> dict[str, Any]:
    channel = {"id": 1, "name": "c", "type": "openai", "base_url": "https://api.example/v1"}
    doc: dict[str, Any] = {
        "version": 2,
        "channels": [{**channel, "key": "sk-upstream-1", **changes.pop("channel", {})}],
        "groups": [{"id": 1, "name": "g", "mode": 1, **changes.pop("group", {})}],
        "group_items": [
            {"id": 1, "group_id": 1, "channel_id": 1, "model_name": "m", **changes.pop("item", {})}
        ],
        "api_keys": [{"id": 1, "name": "k", "api_key": "sk-octopus-x", **changes.pop("key", {})}],
    }
    return doc


# a Go v0.13 generic channel: one OpenAI Chat path, one named key, one grant
GENERIC: dict[str, Any] = {
    "dialect": "generic",
    "type": None,
    "openai_chat_completion_path": "/v1/chat/completions",
    "model": "m",
    "keys": [{"key": "sk-upstream-1", "name": "main"}],
}
GRANT = {"model_name": "m", "key_name": "main", "protocols": 2}

REFUSED: dict[str, dict[str, Any]] = {
    "header with a line break": {
        "channel": {"custom_header": [{"header_key": "X-A", "header_value": "1\r\nHost: evil"}]}
    },
    "protected header": {
        "channel": {"custom_header": [{"header_key": "Authorization", "header_value": "x"}]}
    },
    "file base URL": {"channel": {"base_url": "file:///etc/passwd"}},
    "regex that does not compile": {"channel": {"match_regex": "(unclosed"}},
    "override of the model": {"channel": {"param_override": '{"model": "other"}'}},
    "key with a line break": {"channel": {"key": "sk-a\nsk-b x"}},
    "member weight out of range": {"item": {"weight": 10**9}},
    "name too long": {"group": {"name": "g" * 300}},
    "limit out of range": {"key": {"max_rpm": 10**15}},
    "expiry out of range": {"key": {"expire_at": 10**15}},
    "grant naming no key": {"channel": {**GENERIC, "grants": [{**GRANT, "key_name": "nobody"}]}},
    "grant naming no model": {"channel": {**GENERIC, "grants": [{**GRANT, "model_name": "x"}]}},
    "grant for a protocol without a path": {
        "channel": {**GENERIC, "grants": [{**GRANT, "protocols": 8}]}
    },
    "path with a space": {"channel": {**GENERIC, "openai_chat_completion_path": "/v1/chat x"}},
}


def _import(proc: Process, token: str, doc: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        proc.url + "/api/v1/setting/import",
        content=json.dumps(doc).encode(),
        headers={**bearer(token), "content-type": "application/json"},
    )


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Process, str]]:
    with octopus_process(tmp_path_factory.mktemp("imports")) as proc:
        yield proc, login(proc.url)


@pytest.mark.parametrize("case", list(REFUSED))
def test_rows_the_api_refuses_are_refused(target: tuple[Process, str], case: str) -> None:
    proc, token = target
    reply = _import(proc, token, _dump(**REFUSED[case]))
    assert reply.status_code == 400, reply.text
    assert reply.json()["message"].startswith("import refused, nothing was changed:")
    channels = httpx.get(proc.url + "/api/v1/channel/list", headers=bearer(token))
    assert channels.json()["data"] == []
    no_traceback(proc)


def test_the_same_dump_without_the_bad_value_imports(target: tuple[Process, str]) -> None:
    proc, token = target
    accepted = _import(proc, token, _dump())
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["data"]["rows_affected"]["channels"] == 1


def test_a_bad_grant_is_refused_with_its_reason(target: tuple[Process, str]) -> None:
    proc, token = target
    bad = {**GENERIC, "grants": [{**GRANT, "key_name": "nobody"}]}
    reply = _import(proc, token, _dump(channel=bad))
    assert reply.status_code == 400, reply.text
    assert reply.json()["message"] == (
        "import refused, nothing was changed: channels[0]: grants[0]: no key is named 'nobody'"
    )


def test_a_generic_channel_with_a_good_grant_imports(tmp_path: Path) -> None:
    with octopus_process(tmp_path) as proc:
        token = login(proc.url)
        reply = _import(proc, token, _dump(channel={**GENERIC, "grants": [GRANT]}))
        assert reply.status_code == 200, reply.text
        listed = httpx.get(proc.url + "/api/v1/channel/list", headers=bearer(token)).json()
    assert listed["data"][0]["grants"] == [GRANT]
