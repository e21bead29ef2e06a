"""docker/entrypoint.sh, run for real as root (no Docker engine here): a root-owned data folder is
handed to PUID:PGID, then the command runs as that user; bad PUID/PGID or TZ stop the start."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docker" / "entrypoint.sh"
UID, GID = 4321, 4322
WHO = 'echo "$(id -u):$(id -g)"; touch "$OCTOPUS_DATA_DIR/written"'

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the entrypoint test needs root")


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # not under pytest's 0700 tmp root: the dropped user must be able to reach it
    base = Path(tempfile.mkdtemp(prefix="octopus-entry-", dir="/tmp"))
    base.chmod(0o755)
    data = base / "data"
    data.mkdir()
    (data / "data.db").write_text("rows")  # what an earlier root-run container left behind
    try:
        yield data
    finally:
        shutil.rmtree(base)


def _run(data: Path, env: dict[str, str], *prefix: str) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "OCTOPUS_DATA_DIR": str(data), **env}
    command = [*prefix, "/bin/sh", str(SCRIPT), "/bin/sh", "-c", WHO]
    return subprocess.run(command, env=environ, capture_output=True, text=True, timeout=30)


def test_root_owned_data_is_handed_over_then_root_is_dropped(data_dir: Path) -> None:
    assert data_dir.stat().st_uid == 0
    done = _run(data_dir, {"PUID": str(UID), "PGID": str(GID)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{UID}:{GID}"
    for path in (data_dir, data_dir / "data.db", data_dir / "written"):
        assert (path.stat().st_uid, path.stat().st_gid) == (UID, GID), path
    again = _run(data_dir, {"PUID": str(UID), "PGID": str(GID)})  # nothing left to fix
    assert again.returncode == 0, again.stderr


def test_defaults_to_the_image_user(data_dir: Path) -> None:
    done = _run(data_dir, {})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1000:1000"


def test_an_unprivileged_start_runs_as_it_is(data_dir: Path) -> None:
    os.chown(data_dir, UID, GID)
    as_user = ("setpriv", f"--reuid={UID}", f"--regid={GID}", "--clear-groups", "--")
    done = _run(data_dir, {"PUID": "1", "PGID": "1"}, *as_user)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{UID}:{GID}"
    assert (data_dir / "data.db").stat().st_uid == 0  # it could not, and did not try to, chown


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PUID": "abc"}, "PUID and PGID must be numbers"),
        ({"PGID": "-5"}, "PUID and PGID must be numbers"),
        ({"TZ": "Mars/Olympus_Mons"}, "unknown time zone TZ=Mars/Olympus_Mons"),
    ],
)
def test_bad_settings_stop_the_start(data_dir: Path, env: dict[str, str], message: str) -> None:
    done = _run(data_dir, env)
    assert done.returncode == 2
    assert message in done.stderr
    assert not (data_dir / "written").exists()
