"""Deployment files match the user's guide: port 8080, ./data mounted at /app/data, `octopus start`."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

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


def _compose(text: str) -> dict[str, Any]:
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict)
    return doc


def _readyz_check(service: dict[str, Any]) -> bool:
    return "/readyz" in " ".join(service["healthcheck"]["test"])


def test_compose_redis_lines_uncomment_into_a_valid_file() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    plain = _compose(text)
    assert set(plain["services"]) == {"octopus"}
    assert _readyz_check(plain["services"]["octopus"])
    # what the file says to do: uncomment the two lines and the redis service
    opened = re.sub(r"(?m)^(\s*)# (OCTOPUS_REDIS_URL|OCTOPUS_SERVER_WORKERS)", r"\1\2", text)
    opened = re.sub(r"(?m)^# ?(  .*)$", r"\1", opened)
    redis = _compose(opened)
    env = redis["services"]["octopus"]["environment"]
    assert env["OCTOPUS_REDIS_URL"] == "redis://redis:6379/0"
    assert env["TZ"], "the Redis lines join the environment block, they do not replace it"
    assert redis["services"]["redis"]["image"].startswith("redis:")


def test_compose_ha_runs_two_replicas_behind_the_tested_nginx_file() -> None:
    doc = _compose((ROOT / "deploy" / "compose-ha.yml").read_text())
    services = doc["services"]
    replicas = [name for name in services if name.startswith("gateway-")]
    assert replicas == ["gateway-1", "gateway-2"]
    for name in replicas:
        env = services[name]["environment"]
        assert env["OCTOPUS_DATABASE_TYPE"] == "postgres"
        assert env["OCTOPUS_REDIS_URL"].startswith("redis://redis:")
        assert env["OCTOPUS_SERVER_TRUSTED_PROXIES"], "the proxy's network is trusted"
        assert _readyz_check(services[name])
    assert "./nginx-ha.conf:/etc/nginx/conf.d/default.conf:ro" in services["proxy"]["volumes"]
    site = (ROOT / "deploy" / "nginx-ha.conf").read_text()
    assert all(f"server {name}:8080" in site for name in replicas)
