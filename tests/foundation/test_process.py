"""The real `octopus` command: first start in an empty folder, graceful stop, clear start-up errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.harness import octopus_process


def test_first_start_writes_config_and_admin_logs_in(tmp_path: Path) -> None:
    with octopus_process(tmp_path, {"OCTOPUS_ADMIN_PASSWORD": ""}) as proc:
        config = json.loads((tmp_path / "data" / "config.json").read_text())
        assert config["server"] == {"host": "0.0.0.0", "port": 8080}
        assert config["database"] == {"type": "sqlite", "path": "data/data.db"}
        assert config["log"] == {"level": "info"}
        assert (tmp_path / "data" / "data.db").exists()
        login = httpx.post(
            proc.url + "/api/v1/user/login", json={"username": "admin", "password": "admin"}
        )
        assert login.status_code == 200
        assert login.json()["data"]["must_change_password"] is True
        assert "change its password" in proc.log()
        proc.popen.send_signal(signal.SIGTERM)
        assert proc.popen.wait(timeout=30) == 0
        assert "admin" not in _password_lines(proc.log())


def _password_lines(log: str) -> str:
    return "\n".join(line for line in log.splitlines() if "password=" in line)


def test_second_start_is_a_noop_migration(tmp_path: Path) -> None:
    with octopus_process(tmp_path) as proc:
        proc.popen.send_signal(signal.SIGINT)
        assert proc.popen.wait(timeout=30) == 0
    with octopus_process(tmp_path) as proc:
        assert "database migrated" not in proc.log()
        proc.popen.send_signal(signal.SIGTERM)
        assert proc.popen.wait(timeout=30) == 0


def _start(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environ = {
        "PATH": "/usr/bin:/bin",
        "OCTOPUS_SERVER_PORT": "0",
        "OCTOPUS_PRICES_MODELS_DEV_URL": "",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "octopus", "start"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_bad_port_stops_start_with_one_line(tmp_path: Path) -> None:
    result = _start(tmp_path, {"OCTOPUS_SERVER_PORT": "99999"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "server.port" in result.stderr
    assert not (tmp_path / "data" / "data.db").exists(), "nothing half-starts"


def test_unreachable_database_is_reported_with_password_masked(
    tmp_path: Path, refused_port: int
) -> None:
    result = _start(
        tmp_path,
        {
            "OCTOPUS_DATABASE_TYPE": "postgres",
            "OCTOPUS_DATABASE_PATH": f"postgresql://bob:hunter22@127.0.0.1:{refused_port}/octopus",
        },
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "cannot connect" in output
    assert "hunter22" not in output
    assert "Traceback" not in output


def test_config_flag_reads_another_file(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "octo.json"
    other.parent.mkdir()
    other.write_text(json.dumps({"server": {"port": 1}, "log": {"level": "nope"}}))
    result = subprocess.run(
        [sys.executable, "-m", "octopus", "start", "--config", str(other)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "OCTOPUS_PRICES_MODELS_DEV_URL": ""},
    )
    assert result.returncode == 2
    assert "log.level" in result.stderr
