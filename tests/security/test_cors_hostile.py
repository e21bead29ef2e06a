"""A malformed Origin header is just an origin not allowed: never a 500 before auth."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.harness import serve, sqlite_settings

BROKEN = ("http://[::1", "http://[", "https://a.com:99999", "http://[zz]:1")


@pytest.mark.parametrize("origin", BROKEN)
async def test_a_broken_origin_is_refused_cleanly(tmp_path: Path, origin: str) -> None:
    headers = {"origin": origin}
    async with (
        serve(sqlite_settings(tmp_path)) as gateway,
        httpx.AsyncClient(base_url=gateway.url, timeout=30) as client,
    ):
        relay = await client.get("/v1/models", headers=headers)
        admin = await client.get("/api/v1/user/status", headers=headers)
        preflight = await client.options(
            "/v1/chat/completions", headers={**headers, "access-control-request-method": "POST"}
        )
    assert relay.status_code == 401, relay.text
    assert admin.status_code == 401, admin.text
    assert preflight.status_code == 403, preflight.text
    assert "access-control-allow-origin" not in relay.headers
