"""Deployment files match the user's guide: port 8080, ./data mounted at /app/data, `octopus start`."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_compose_maps_port_and_data_volume() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    assert re.search(r'^\s*-\s*"?8080:8080"?\s*$', compose, re.M)
    assert re.search(r"^\s*-\s*\./data:/app/data\s*$", compose, re.M)


def test_image_runs_octopus_start_through_the_entrypoint_with_data_in_app() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r"^CMD\s+(\[.*\])\s*$", dockerfile, re.M)
    assert cmd is not None
    assert json.loads(cmd.group(1)) == ["octopus", "start"]
    assert re.search(r"^WORKDIR /app$", dockerfile, re.M)
    assert re.search(r"^EXPOSE 8080$", dockerfile, re.M)
    # root only inside the entrypoint, which drops to PUID:PGID (tests/foundation/test_entrypoint)
    entry = re.search(r"^ENTRYPOINT\s+(\[.*\])\s*$", dockerfile, re.M)
    assert entry is not None
    assert json.loads(entry.group(1)) == ["/entrypoint.sh"]
    assert "COPY docker/entrypoint.sh /entrypoint.sh" in dockerfile
    assert "tzdata" in dockerfile
    assert not re.findall(r"^USER ", dockerfile, re.M)


def test_compose_shows_puid_pgid_and_tz() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    for name in ("PUID", "PGID", "TZ"):
        assert re.search(rf"^\s+{name}: ", compose, re.M), name


def test_console_script_and_readme_commands() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["octopus"] == "octopus.cli:main"
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make run") < readme.index("## Configuration")
    assert "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
