"""Configuration: defaults written on first start, env > file > defaults, one clear line on bad values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from octopus.settings import ConfigError, Settings, default_document


def test_first_load_writes_the_guide_defaults(tmp_path: Path) -> None:
    path = tmp_path / "data" / "config.json"
    settings = Settings.load(path, environ={})
    written = json.loads(path.read_text())
    assert written["server"] == {"host": "0.0.0.0", "port": 8080}
    assert written["database"] == {"type": "sqlite", "path": "data/data.db"}
    assert written["log"] == {"level": "info"}
    assert (settings.host, settings.port, settings.database_type) == ("0.0.0.0", 8080, "sqlite")
    assert "github" not in written, "secrets are never written to the file"


def test_env_beats_file_beats_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps({"server": {"port": 9000, "host": "127.0.0.1"}, "log": {"level": "debug"}})
    )
    env = {
        "OCTOPUS_SERVER_PORT": "9100",
        "OCTOPUS_DATABASE_TYPE": "postgres",
        "OCTOPUS_DATABASE_PATH": "postgresql://u:p@h/db",
        "OCTOPUS_GITHUB_PAT": "ghp_x",
        "OCTOPUS_RELAY_MAX_SSE_EVENT_SIZE": "1048576",
        "OCTOPUS_CONFIG_POLL_SECONDS": "0.5",
    }
    settings = Settings.load(path, environ=env)
    assert settings.config_poll_seconds == 0.5 != Settings().config_poll_seconds
    assert settings.port == 9100  # env over file
    assert settings.host == "127.0.0.1"  # file over default
    assert settings.log_level == "debug"
    assert settings.database_type == "postgres"
    assert settings.database_path == "postgresql://u:p@h/db"
    assert settings.github_pat == "ghp_x"
    assert settings.relay_max_sse_event_size == 1048576
    assert settings.database_type != Settings().database_type
    assert "ghp_x" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"OCTOPUS_SERVER_PORT": "99999"}, "server.port"),
        ({"OCTOPUS_SERVER_PORT": "eighty"}, "server.port"),
        ({"OCTOPUS_DATABASE_TYPE": "oracle"}, "database.type"),
        ({"OCTOPUS_LOG_LEVEL": "loud"}, "log.level"),
        ({"OCTOPUS_RELAY_MAX_SSE_EVENT_SIZE": "-1"}, "relay.max_sse_event_size"),
        ({"OCTOPUS_CONFIG_POLL_SECONDS": "0"}, "config.poll_seconds"),
        ({"OCTOPUS_CONFIG_POLL_SECONDS": "nan"}, "config.poll_seconds"),
    ],
)
def test_bad_values_name_their_key(tmp_path: Path, env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.load(tmp_path / "config.json", environ=env)
    message = str(info.value)
    assert key in message
    assert "\n" not in message


def test_bad_value_in_file_names_key_and_origin(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"server": {"port": True}}))
    with pytest.raises(ConfigError, match=r"server\.port \(from config file\)"):
        Settings.load(path, environ={})


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", ""])
def test_malformed_file_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match="config file"):
        Settings.load(path, environ={})


def test_default_document_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(default_document()))
    assert Settings.load(path, environ={}) == Settings(config_path=path)
