"""Property: whatever bytes or JSON reach an admin route, the answer is a 2xx or a 4xx in the
envelope, never a 5xx, and the process logs no traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness import Process, octopus_process
from tests.security.conftest import bearer, login, no_traceback

# routes that take a JSON body and only touch the database (none reaches the network, none
# changes the credentials the test logs in with)
ROUTES = (
    "/api/v1/user/login",
    "/api/v1/apikey/create",
    "/api/v1/apikey/update",
    "/api/v1/channel/create",
    "/api/v1/channel/update",
    "/api/v1/channel/enable",
    "/api/v1/group/create",
    "/api/v1/group/update",
    "/api/v1/group/auto-add",
    "/api/v1/setting/set",
    "/api/v1/setting/import",
    "/api/v1/model/create",
    "/api/v1/model/update",
    "/api/v1/model/delete",
    "/api/v1/group/active/1",
)
# routes whose query values are integers or dates (read by access.bounded_int)
QUERY_ROUTES = (
    "/api/v1/log/list?page=",
    "/api/v1/log/page?channel_id=",
    "/api/v1/stats/daily?days=",
    "/api/v1/stats/hourly?hours=",
    "/api/v1/stats/hourly?date=",
    "/api/v1/stats/model?start_time=",
)
FIELDS = (
    "id", "name", "username", "password", "expire", "type", "base_url", "key", "keys", "model",
    "custom_model", "enabled", "proxy", "custom_header", "param_override", "match_regex",
    "items", "mode", "channel_id", "model_name", "priority", "weight", "max_cost", "max_rpm",
    "expire_at", "supported_models", "value", "input", "output", "relay_config", "version",
    "channels", "groups", "settings", "item_id", "dialect", "protocol_paths", "grants",
)  # fmt: skip
SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
objects = st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, json_values))


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Process, httpx.Client]]:
    with octopus_process(tmp_path_factory.mktemp("properties")) as proc:
        headers = {**bearer(login(proc.url)), "content-type": "application/json"}
        with httpx.Client(base_url=proc.url, headers=headers, timeout=30) as client:
            yield proc, client
        no_traceback(proc)


def _check(reply: httpx.Response) -> None:
    assert reply.status_code < 500, reply.text
    body = reply.json()
    assert body["code"] == reply.status_code


@SETTINGS
@given(route=st.sampled_from(ROUTES), body=st.binary(max_size=600))
def test_any_bytes(admin: tuple[Process, httpx.Client], route: str, body: bytes) -> None:
    _check(admin[1].post(route, content=body))


@SETTINGS
@given(route=st.sampled_from(ROUTES), body=objects)
def test_any_json_object(
    admin: tuple[Process, httpx.Client], route: str, body: dict[str, Any]
) -> None:
    _check(admin[1].post(route, content=json.dumps(body).encode()))


@SETTINGS
@given(route=st.sampled_from(ROUTES), body=json_values)
def test_any_json_value(admin: tuple[Process, httpx.Client], route: str, body: Any) -> None:
    _check(admin[1].post(route, content=json.dumps(body).encode()))


@SETTINGS
@given(
    route=st.sampled_from(QUERY_ROUTES),
    value=st.from_regex(r"[-+ ]{0,3}[0-9]{1,22}", fullmatch=True)
    | st.from_regex(r"9999(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])", fullmatch=True)
    | st.text(alphabet="-+0123456789 .e", max_size=24),
)
def test_any_integer_query(admin: tuple[Process, httpx.Client], route: str, value: str) -> None:
    _check(admin[1].get(route + quote(value)))
