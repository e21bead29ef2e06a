"""First start on admin/admin: that session can change the password and nothing else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.harness import octopus_process
from tests.security.conftest import FIRST_START, LOGIN, bearer, login

NEW = "a-long-new-pass"
LOCKED_ROUTES = (
    ("GET", "/api/v1/setting/export", None),
    ("GET", "/api/v1/channel/list", None),
    ("GET", "/api/v1/apikey/list", None),
    ("POST", "/api/v1/apikey/create", {"name": "mine"}),
    ("POST", "/api/v1/user/change-username", {"new_username": "boss"}),
    ("GET", "/api/v1/log/list", None),
)


def test_initial_session_can_only_change_the_password(tmp_path: Path) -> None:
    with octopus_process(tmp_path, FIRST_START) as proc, httpx.Client(base_url=proc.url) as client:
        reply = client.post(LOGIN, json={"username": "admin", "password": "admin"})
        assert reply.json()["data"]["must_change_password"] is True
        token = reply.json()["data"]["token"]
        for method, path, body in LOCKED_ROUTES:
            refused = client.request(method, path, json=body, headers=bearer(token))
            assert refused.status_code == 403, path
            assert refused.json()["code"] == 403
            assert "change-password" in refused.json()["message"]
        info = client.get("/api/v1/user/info", headers=bearer(token)).json()["data"]
        assert info == {"username": "admin", "must_change_password": True}
        change = "/api/v1/user/change-password"
        for weak in ("admin", "ADMIN", "short7!"):
            body = {"old_password": "admin", "new_password": weak}
            assert client.post(change, json=body, headers=bearer(token)).status_code == 400
        done = client.post(
            change, json={"old_password": "admin", "new_password": NEW}, headers=bearer(token)
        )
        assert done.status_code == 200
        assert client.get("/api/v1/user/status", headers=bearer(token)).status_code == 401
        fresh = client.post(LOGIN, json={"username": "admin", "password": NEW})
        assert fresh.json()["data"]["must_change_password"] is False
        export = client.get("/api/v1/setting/export", headers=bearer(fresh.json()["data"]["token"]))
        assert export.status_code == 200
        assert (
            client.post(LOGIN, json={"username": "admin", "password": "admin"}).status_code == 401
        )


def test_lockdown_survives_a_restart(tmp_path: Path) -> None:
    with octopus_process(tmp_path, FIRST_START):
        pass
    # the first password setting applies to a first start only: the account is still locked
    with octopus_process(tmp_path) as proc:
        token = login(proc.url, "admin")
        refused = httpx.get(proc.url + "/api/v1/channel/list", headers=bearer(token))
        assert refused.status_code == 403


def test_admin_password_flag_sets_the_first_password(tmp_path: Path) -> None:
    with octopus_process(tmp_path, FIRST_START, ("--admin-password", "flag-given-pw")) as proc:
        reply = httpx.post(
            proc.url + LOGIN, json={"username": "admin", "password": "flag-given-pw"}
        )
        assert reply.json()["data"]["must_change_password"] is False
        token = reply.json()["data"]["token"]
        assert (
            httpx.get(proc.url + "/api/v1/channel/list", headers=bearer(token)).status_code == 200
        )
        assert (
            httpx.post(
                proc.url + LOGIN, json={"username": "admin", "password": "admin"}
            ).status_code
            == 401
        )


def test_a_weak_first_password_stops_the_start(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "octopus", "start"],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "OCTOPUS_ADMIN_PASSWORD": "admin",
            "OCTOPUS_SERVER_PORT": "0",
            "OCTOPUS_PRICES_MODELS_DEV_URL": "",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "admin.password" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
