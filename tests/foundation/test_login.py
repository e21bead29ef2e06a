"""Admin login through real HTTP: envelope, cookie flags, bearer tokens, invalidation, throttling."""

from __future__ import annotations

import datetime
import time
from pathlib import Path

import httpx

from octopus.services.accounts import AuthService
from tests.harness import TEST_ADMIN_PASSWORD as PASSWORD
from tests.harness import serve, sqlite_settings


async def _login(
    client: httpx.AsyncClient,
    password: str = PASSWORD,
    headers: dict[str, str] | None = None,
    **extra: object,
) -> httpx.Response:
    body = {"username": "admin", "password": password, "expire": 3600, **extra}
    return await client.post("/api/v1/user/login", json=body, headers=headers)


async def test_login_sets_hardened_cookie_and_returns_token(tmp_path: Path) -> None:
    async with serve(sqlite_settings(tmp_path)) as gw, httpx.AsyncClient(base_url=gw.url) as client:
        response = await _login(client)
        assert response.status_code == 200
        body = response.json()
        assert body["code"] == 200
        assert body["message"] == "success"
        assert set(body["data"]) == {"token", "expire_at", "must_change_password"}
        assert body["data"]["must_change_password"] is False  # the first password was given
        # RFC 3339, as the Go project answers, about an hour from now
        expires = datetime.datetime.fromisoformat(body["data"]["expire_at"])
        left = expires.timestamp() - time.time()
        assert 3000 < left <= 3601
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("auth=")
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Secure" not in cookie  # plain HTTP here
        assert "Max-Age=3600" in cookie
        assert (await client.get("/api/v1/user/status")).json() == {
            "code": 200,
            "message": "success",
            "data": "ok",
        }


async def test_cookie_is_secure_behind_https_proxy(tmp_path: Path) -> None:
    settings = sqlite_settings(tmp_path, trusted_proxies=("127.0.0.0/8",))
    async with serve(settings) as gw, httpx.AsyncClient(base_url=gw.url) as client:
        response = await _login(client, headers={"x-forwarded-proto": "https"})
        assert "Secure" in response.headers["set-cookie"]


async def test_forwarded_proto_from_an_untrusted_peer_is_ignored(tmp_path: Path) -> None:
    async with serve(sqlite_settings(tmp_path)) as gw, httpx.AsyncClient(base_url=gw.url) as client:
        response = await _login(client, headers={"x-forwarded-proto": "https"})
        assert response.status_code == 200
        assert "Secure" not in response.headers["set-cookie"]


async def test_bearer_token_works_without_cookie(tmp_path: Path) -> None:
    async with serve(sqlite_settings(tmp_path)) as gw, httpx.AsyncClient(base_url=gw.url) as client:
        token = (await _login(client)).json()["data"]["token"]
        async with httpx.AsyncClient(base_url=gw.url) as script:
            ok = await script.get(
                "/api/v1/user/status", headers={"Authorization": f"Bearer {token}"}
            )
            assert ok.status_code == 200
            bad = await script.get("/api/v1/user/status", headers={"Authorization": "Bearer x.y"})
            assert bad.status_code == 401
            assert bad.json() == {"code": 401, "message": "Authentication failed"}


async def test_admin_routes_reject_missing_and_forged_tokens(tmp_path: Path) -> None:
    async with serve(sqlite_settings(tmp_path)) as gw, httpx.AsyncClient(base_url=gw.url) as client:
        assert (await client.get("/api/v1/user/status")).status_code == 401
        client.cookies.set("auth", "eyJ1IjoxfQ.forged")
        response = await client.get("/api/v1/user/status")
        assert response.status_code == 401
        assert 'auth=""' in response.headers.get("set-cookie", "")


async def test_wrong_user_and_wrong_password_look_the_same(tmp_path: Path) -> None:
    async with serve(sqlite_settings(tmp_path)) as gw, httpx.AsyncClient(base_url=gw.url) as client:
        wrong_password = await _login(client, password="nope")
        wrong_user = await client.post(
            "/api/v1/user/login", json={"username": "root", "password": PASSWORD}
        )
        assert wrong_password.status_code == wrong_user.status_code == 401
        assert (
            wrong_password.json()
            == wrong_user.json()
            == {
                "code": 401,
                "message": "Authentication failed",
            }
        )


async def test_password_change_invalidates_every_earlier_token(tmp_path: Path) -> None:
    async with serve(sqlite_settings(tmp_path)) as gw, httpx.AsyncClient(base_url=gw.url) as client:
        old_token = (await _login(client)).json()["data"]["token"]
        changed = await client.post(
            "/api/v1/user/change-password",
            json={"old_password": PASSWORD, "new_password": "s3cret-pass"},
        )
        assert changed.json()["code"] == 200
        headers = {"Authorization": f"Bearer {old_token}"}
        assert (await client.get("/api/v1/user/status", headers=headers)).status_code == 401
        assert (await _login(client)).status_code == 401
        assert (await _login(client, password="s3cret-pass")).status_code == 200


async def test_username_change_and_validation(tmp_path: Path) -> None:
    async with serve(sqlite_settings(tmp_path)) as gw, httpx.AsyncClient(base_url=gw.url) as client:
        await _login(client)
        same = await client.post("/api/v1/user/change-username", json={"new_username": "admin"})
        assert same.status_code == 400
        short = await client.post(
            "/api/v1/user/change-password", json={"old_password": PASSWORD, "new_password": "123"}
        )
        assert short.status_code == 400
        assert "at least" in short.json()["message"]
        renamed = await client.post("/api/v1/user/change-username", json={"new_username": "boss"})
        assert renamed.json()["code"] == 200
        assert (await client.get("/api/v1/user/status")).status_code == 401  # old session void
        relog = await client.post(
            "/api/v1/user/login", json={"username": "boss", "password": PASSWORD}
        )
        assert relog.status_code == 200


async def test_malformed_bodies_get_envelope_errors(tmp_path: Path) -> None:
    async with serve(sqlite_settings(tmp_path)) as gw, httpx.AsyncClient(base_url=gw.url) as client:
        not_json = await client.post(
            "/api/v1/user/login", content=b"{", headers={"content-type": "application/json"}
        )
        assert not_json.status_code == 400
        assert not_json.json()["message"] == "Invalid JSON format"
        wrong_type = await client.post(
            "/api/v1/user/login", content=b"x", headers={"content-type": "text/plain"}
        )
        assert wrong_type.status_code == 415
        missing = await client.post("/api/v1/user/login", json={"username": "admin"})
        assert missing.status_code == 400
        assert "password" in missing.json()["message"]


async def test_token_lifetime_is_capped_at_30_days(tmp_path: Path) -> None:
    async with serve(sqlite_settings(tmp_path)) as gw, httpx.AsyncClient(base_url=gw.url) as client:
        response = await _login(client, expire=10 * 365 * 24 * 3600)
        assert "Max-Age=2592000" in response.headers["set-cookie"]


async def test_failed_logins_are_throttled_then_locked(tmp_path: Path) -> None:
    async with serve(sqlite_settings(tmp_path)) as gw, httpx.AsyncClient(base_url=gw.url) as client:
        statuses = [(await _login(client, password="bad")).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 401]
        throttled = await _login(client)  # even the right password must wait
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) >= 1
        assert "admin" not in throttled.json()["message"]
        auth: AuthService = gw.app.services.auth
        assert auth is not None
