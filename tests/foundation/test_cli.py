"""CLI commands that do not serve: version, migrate, reset-password."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from octopus import __version__
from tests.harness import octopus_process


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "octopus", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "OCTOPUS_PRICES_MODELS_DEV_URL": ""},
    )


def test_version(tmp_path: Path) -> None:
    result = _run(tmp_path, "version")
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_migrate_creates_then_noops(tmp_path: Path) -> None:
    first = _run(tmp_path, "migrate")
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "data" / "data.db").exists()
    second = _run(tmp_path, "migrate")
    assert second.returncode == 0
    assert "database migrated" in first.stderr
    assert "database migrated" not in second.stderr


def test_reset_password_recovers_the_admin(tmp_path: Path) -> None:
    assert _run(tmp_path, "migrate").returncode == 0
    short = _run(tmp_path, "reset-password", "--password", "abc")
    assert short.returncode == 2
    result = _run(tmp_path, "reset-password", "--password", "brand-new-pw", "--username", "root")
    assert result.returncode == 0, result.stderr
    assert "brand-new-pw" not in result.stdout + result.stderr
    with octopus_process(tmp_path) as proc:
        login = httpx.post(
            proc.url + "/api/v1/user/login", json={"username": "root", "password": "brand-new-pw"}
        )
        assert login.status_code == 200
        old = httpx.post(
            proc.url + "/api/v1/user/login", json={"username": "admin", "password": "admin"}
        )
        assert old.status_code == 401
