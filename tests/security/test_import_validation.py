"""A backup import is checked like the admin API's create routes: what the API refuses, a file
cannot store either; nothing is written when one row is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
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
