"""Hostile admin input gets a 400 (or 404) in the envelope: never a 500, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import Process, octopus_process
from tests.security.conftest import bearer, login, no_traceback

JSON = {"content-type": "application/json"}
BODIES = {
    "malformed": b'{"name": ',
    "nested 1000": b'{"name":' + b"[" * 1000 + b"]" * 1000 + b"}",
    "nested 5000": b"[" * 5000 + b"]" * 5000,
    "invalid UTF-8": b'{"name": "\xff\xfe bad"}',
    "lone surrogate": b'{"name": "\\ud800"}',
    "NUL in text": b'{"name": "a\\u0000b"}',
    "huge number": b'{"name": "x", "max_cost": 1e999}',
    "huge integer": b'{"name": "x", "max_rpm": 123456789012345678901234567890}',
    "not an object": b"[1, 2, 3]",
    "empty": b"",
}
POST_ROUTES = (
    "/api/v1/user/login",
    "/api/v1/apikey/create",
    "/api/v1/apikey/update",
    "/api/v1/channel/create",
    "/api/v1/channel/update",
    "/api/v1/channel/enable",
    "/api/v1/group/create",
    "/api/v1/group/update",
    "/api/v1/setting/set",
    "/api/v1/setting/import",
    "/api/v1/model/create",
)
QUERIES = (
    "/api/v1/log/list?page=100000000000000000000000",
    "/api/v1/log/list?page=99999999999",
    "/api/v1/log/list?page_size=-99999999999999999999",
    "/api/v1/log/list?start_time=99999999999999999999",
    "/api/v1/log/list?start_time=-1",
    "/api/v1/log/list?end_time=1e9",
    "/api/v1/log/list?channel_id=4294967296",
    "/api/v1/log/list?page=%ff",
    "/api/v1/log/list?page=%D9%A3",
    "/api/v1/log/page?page=99999999999999999999",
    "/api/v1/log/99999999999999999999999",
    "/api/v1/log/%D9%A3%D9%A3",
    "/api/v1/log/" + "x" * 5000,
    "/api/v1/log/99999999999999999999999/request-body",
    "/api/v1/stats/daily?days=99999999999999",
    "/api/v1/stats/hourly?hours=99999999999999999999",
    "/api/v1/stats/hourly?date=99999999",
    "/api/v1/stats/channel?start_time=99999999999999999999",
    "/api/v1/log/list?page=--5",
    "/api/v1/log/list?channel_id=--1",
    "/api/v1/stats/daily?days=-0-",
    "/api/v1/stats/hourly?date=99991231",
)
# each reached a 500 once: a doubled minus, a key list that is a number, a path map that is a
# list, ids past every id column
HOSTILE_POSTS: tuple[tuple[str, dict[str, object]], ...] = (
    ("/api/v1/channel/fetch-model", {"channel": {"keys": 5, "base_url": "ftp://x"}, "key": "k"}),
    (
        "/api/v1/channel/create",
        {"name": "g", "dialect": "generic", "protocol_paths": [1], "base_url": "https://a.test"},
    ),
    ("/api/v1/channel/update", {"id": 2**64, "name": "x"}),
    ("/api/v1/channel/enable", {"id": 2**63, "enabled": True}),
    ("/api/v1/group/update", {"id": 2**63, "name": "x"}),
    ("/api/v1/apikey/update", {"id": 2**63, "name": "x"}),
    ("/api/v1/group/runtime/reset/99999999999999999999", {}),
    ("/api/v1/log/req-1/--5/stop", {}),
)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Process, str]]:
    with octopus_process(tmp_path_factory.mktemp("hostile")) as proc:
        yield proc, login(proc.url)


@pytest.mark.parametrize("route", POST_ROUTES)
def test_hostile_bodies_get_400(hostile: tuple[Process, str], route: str) -> None:
    proc, token = hostile
    for name, body in BODIES.items():
        reply = httpx.post(proc.url + route, content=body, headers={**JSON, **bearer(token)})
        # a field a route does not take is ignored; what cannot be read at all is refused
        lowest = 200 if name in ("huge number", "huge integer") else 400
        assert lowest <= reply.status_code < 500, (name, reply.status_code, reply.text)
        assert reply.json()["code"] == reply.status_code
    no_traceback(proc)


@pytest.mark.parametrize("query", QUERIES)
def test_out_of_range_queries_get_4xx(hostile: tuple[Process, str], query: str) -> None:
    proc, token = hostile
    reply = httpx.get(proc.url + query, headers=bearer(token))
    assert reply.status_code in (200, 400, 404), (query, reply.status_code, reply.text)
    assert reply.json()["code"] == reply.status_code
    no_traceback(proc)


@pytest.mark.parametrize(("route", "body"), HOSTILE_POSTS)
def test_hostile_values_get_4xx(
    hostile: tuple[Process, str], route: str, body: dict[str, object]
) -> None:
    proc, token = hostile
    reply = httpx.post(proc.url + route, json=body, headers=bearer(token))
    assert reply.status_code in (400, 404), (route, reply.status_code, reply.text)
    assert reply.json()["code"] == reply.status_code
    no_traceback(proc)


def test_an_active_member_id_past_every_column(hostile: tuple[Process, str]) -> None:
    proc, token = hostile
    channel = {"name": "c", "type": "openai", "base_url": "https://a.test/v1", "key": "sk-1"}
    channel["model"] = "m"
    made = httpx.post(proc.url + "/api/v1/channel/create", json=channel, headers=bearer(token))
    item = {"channel_id": made.json()["data"]["id"], "model_name": "m"}
    group = {"name": "hostile-active", "mode": 1, "items": [item]}
    made = httpx.post(proc.url + "/api/v1/group/create", json=group, headers=bearer(token))
    route = f"/api/v1/group/active/{made.json()['data']['id']}"
    for item_id in (2**64, 2**31):
        reply = httpx.post(proc.url + route, json={"item_id": item_id}, headers=bearer(token))
        assert reply.status_code == 400, reply.text
        # refused by the bounded reader, before any store lookup
        assert "'item_id' must be at least 0 and at most" in reply.json()["message"], reply.text
    no_traceback(proc)


def test_path_ids_out_of_range(hostile: tuple[Process, str]) -> None:
    proc, token = hostile
    for path in (
        "/api/v1/channel/delete/99999999999999",
        "/api/v1/channel/delete/-1",
        "/api/v1/group/delete/%D9%A3",
        "/api/v1/apikey/delete/0",
    ):
        reply = httpx.delete(proc.url + path, headers=bearer(token))
        assert reply.status_code in (400, 404), (path, reply.status_code)
    no_traceback(proc)


def test_logs_show_no_traceback_after_a_hostile_session(tmp_path: Path) -> None:
    with octopus_process(tmp_path) as proc:
        token = login(proc.url)
        for body in BODIES.values():
            httpx.post(proc.url + "/api/v1/group/create", content=body, headers=JSON)
            httpx.post(
                proc.url + "/api/v1/group/create", content=body, headers={**JSON, **bearer(token)}
            )
        no_traceback(proc)
