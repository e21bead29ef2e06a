"""Sessions are state: logout and reset-password end them on every instance sharing the
database within the 2 s account cache; cross-site requests and forwarded headers are refused."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.harness import TEST_ADMIN_PASSWORD, Process, octopus_process
from tests.security.conftest import LOGIN, bearer, login

STATUS = "/api/v1/user/status"
# the cache holds the account for 2 s; the rest is room for a loaded machine
CACHE_SECONDS = 2.0
MARGIN = 8.0


def _seconds_until_refused(proc: Process, token: str) -> float:
    """Poll until the token is refused; the seconds that took."""
    start = time.monotonic()
    while httpx.get(proc.url + STATUS, headers=bearer(token)).status_code == 200:
        assert time.monotonic() - start < CACHE_SECONDS + MARGIN, "the session outlived the cache"
        time.sleep(0.1)
    return time.monotonic() - start


def test_logout_revokes_the_token_on_every_instance(tmp_path: Path) -> None:
    first, second = _dirs(tmp_path)
    shared = {"OCTOPUS_DATABASE_PATH": str(tmp_path / "shared.db")}  # one database, two instances
    with octopus_process(first, shared) as one, octopus_process(second, shared) as two:
        token = login(one.url)
        assert httpx.get(two.url + STATUS, headers=bearer(token)).status_code == 200
        other = login(one.url)
        logout = httpx.post(one.url + "/api/v1/user/logout", headers=bearer(token), json={})
        assert logout.status_code == 200
        # the instance that logged out refuses at once; the other within its cache time
        assert httpx.get(one.url + STATUS, headers=bearer(token)).status_code == 401
        _seconds_until_refused(two, token)
        # another session of the same account is untouched
        assert httpx.get(two.url + STATUS, headers=bearer(other)).status_code == 200


def test_reset_password_applies_to_a_running_gateway(tmp_path: Path) -> None:
    with octopus_process(tmp_path) as proc:
        token = login(proc.url)
        reset = subprocess.run(
            [sys.executable, "-m", "octopus", "reset-password", "--password", "after-reset-1"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert reset.returncode == 0, reset.stderr
        _seconds_until_refused(proc, token)
        old = {"username": "admin", "password": TEST_ADMIN_PASSWORD}
        assert httpx.post(proc.url + LOGIN, json=old).status_code == 401
        login(proc.url, "after-reset-1")


def test_cross_site_content_types_are_refused(gateway: Process) -> None:
    token = login(gateway.url)
    with httpx.Client(base_url=gateway.url, headers=bearer(token)) as client:
        before = client.get("/api/v1/apikey/list").json()["data"]
        for kind in (
            "text/plain; x=application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonx",
        ):
            forged = client.post(
                "/api/v1/apikey/create", content=b'{"name":"csrf"}', headers={"content-type": kind}
            )
            assert forged.status_code == 415, kind
            assert forged.json()["code"] == 415
        # body-less actions too when the session rides on the cookie (a page can send that)
        bare = httpx.post(gateway.url + "/api/v1/channel/sync", cookies={"auth": token})
        assert bare.status_code == 415
        # a bare POST with a Bearer header is a script's, not a page's (Go clients sync so)
        assert client.post("/api/v1/channel/sync").status_code == 200
        assert client.get("/api/v1/apikey/list").json()["data"] == before
        real = client.post(
            "/api/v1/apikey/create",
            content=b'{"name":"mine"}',
            headers={"content-type": "application/json; charset=utf-8"},
        )
        assert real.status_code == 200


def _dirs(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    return tmp_path / "a", tmp_path / "b"


def test_forwarded_headers_count_only_from_trusted_proxies(tmp_path: Path) -> None:
    first, second = _dirs(tmp_path)
    https = {"x-forwarded-proto": "https"}
    body = {"username": "admin", "password": TEST_ADMIN_PASSWORD}
    with octopus_process(first) as plain:
        cookie = httpx.post(plain.url + LOGIN, json=body, headers=https).headers["set-cookie"]
        assert "Secure" not in cookie
    env = {"OCTOPUS_SERVER_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"}
    with octopus_process(second, env) as proxied:
        cookie = httpx.post(proxied.url + LOGIN, json=body, headers=https).headers["set-cookie"]
        assert "Secure" in cookie


def _wait_of_four_seconds(proc: Process, body: dict[str, str], forwarded: str) -> None:
    """Wrong guesses until this client must wait at least 4 s (the waits double: 1, 2, 4)."""
    headers = {"x-forwarded-for": forwarded}
    while True:
        reply = httpx.post(proc.url + LOGIN, json=body, headers=headers)
        if reply.status_code == 429:
            retry_after = int(reply.headers["retry-after"])
            if retry_after >= 4:
                return
            time.sleep(retry_after)


def _guess(proc: Process, body: dict[str, str], forwarded: str) -> int:
    headers = {"x-forwarded-for": forwarded}
    return httpx.post(proc.url + LOGIN, json=body, headers=headers).status_code


def test_client_address_comes_from_trusted_proxies_only(tmp_path: Path) -> None:
    first, second = _dirs(tmp_path)
    with octopus_process(first) as plain:
        _wait_of_four_seconds(plain, {"username": "a", "password": "wrong-1"}, "198.51.100.1")
        # a forged X-Forwarded-For from an untrusted peer changes nothing: still this peer
        assert _guess(plain, {"username": "b", "password": "wrong-2"}, "198.51.100.2") == 429
    env = {"OCTOPUS_SERVER_TRUSTED_PROXIES": "127.0.0.1,10.0.0.0/8"}
    with octopus_process(second, env) as proxied:
        _wait_of_four_seconds(proxied, {"username": "a", "password": "wrong-1"}, "198.51.100.1")
        # behind a trusted proxy, another client is another address
        body = {"username": "b", "password": "wrong-2"}
        assert _guess(proxied, body, "10.9.9.9, 198.51.100.2") == 401
        # the same client through another trusted hop is still the same client
        assert _guess(proxied, body, "198.51.100.1, 10.9.9.9") == 429


def test_a_forged_first_forwarded_line_is_not_believed(tmp_path: Path) -> None:
    """HAProxy appends its own X-Forwarded-For line: the client's forged line above it is not
    the client's address (every line is read, right to left past trusted hops)."""
    env = {"OCTOPUS_SERVER_TRUSTED_PROXIES": "127.0.0.1"}
    headers = [("x-forwarded-for", "198.51.100.66"), ("x-forwarded-for", "203.0.113.5")]
    with octopus_process(tmp_path, env) as proxied:
        body = {"username": "admin", "password": "wrong"}
        reply = httpx.post(proxied.url + LOGIN, json=body, headers=headers)
        assert reply.status_code == 401
        log = proxied.log()
    assert 'msg="failed admin login" client=203.0.113.5' in log, log[-2000:]
    assert "198.51.100.66" not in log
