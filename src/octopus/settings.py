"""Settings: config.json over defaults, then OCTOPUS_* overrides; nothing else reads os.environ."""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_CONFIG_PATH = Path("data/config.json")
DATABASE_TYPES = ("sqlite", "mysql", "postgres", "postgresql")
LOG_LEVELS = ("debug", "info", "warn", "warning", "error")
MiB = 1024 * 1024


class ConfigError(Exception):
    """A configuration value that stops start-up; the message names the key."""


@dataclass(frozen=True)
class Settings:
    host: str = "0.0.0.0"  # noqa: S104 - a gateway listens on every interface by default
    port: int = 8080
    workers: int = 1  # serving processes on the one port; 0 = one per core
    database_type: str = "sqlite"
    database_path: str = "data/data.db"
    log_level: str = "info"
    github_pat: str = field(default="", repr=False)
    # where prices are refreshed from ("" = only the shipped snapshot) and whose releases
    # the update check reads (owner/name or a github.com URL)
    models_dev_url: str = "https://models.dev/api.json"
    update_repository: str = "octopus-gateway/octopus"
    relay_max_sse_event_size: int = 32 * MiB
    relay_max_body_size: int = 64 * MiB
    redis_url: str = field(default="", repr=False)  # "" = routing limits kept in-process
    redis_prefix: str = "octopus:"  # lets several deployments share one Redis
    shutdown_grace_seconds: int = 30  # in-flight requests get this long after SIGTERM
    # IANA name: days and hours of stats, the dashboard and retention (OCTOPUS_TIMEZONE, else TZ)
    timezone: str = "UTC"
    debug: bool = False  # OCTOPUS_DEBUG: debug logging, SQL statements and a request line each
    # the first admin password on first start ("" = admin/admin, changed at first login)
    admin_password: str = field(default="", repr=False)
    # reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or CIDRs)
    trusted_proxies: tuple[str, ...] = ()
    max_import_size: int = 64 * MiB  # POST /api/v1/setting/import; other admin routes get 1 MiB
    # how often each process reads the config version (the backstop for a lost pub/sub message)
    config_poll_seconds: float = 2.0
    config_path: Path = DEFAULT_CONFIG_PATH

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def data_dir(self) -> Path:
        return self.config_path.parent

    @classmethod
    def load(
        cls, config_path: Path | None = None, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Defaults < config file < environment; writes the file with defaults when missing."""
        path = config_path or DEFAULT_CONFIG_PATH
        env = os.environ if environ is None else environ
        file_values = _read_or_create(path)
        values: dict[str, Any] = {}
        for key in KEYS:
            raw, origin = _pick(key, file_values, env)
            if raw is not _MISSING:
                values[key.attr] = key.parse(raw, origin)
        if "timezone" not in values and env.get("TZ"):
            # the container's TZ is the default zone; one Python cannot read (POSIX rules) is UTC
            with contextlib.suppress(ValueError):
                values["timezone"] = _timezone(env["TZ"])
        return cls(config_path=path, **values)

    def with_workers(self, raw: Any) -> Settings:
        """`octopus start --workers N` over the file and environment."""
        workers = _Key("server.workers", "workers", _non_negative_int).parse(raw, "--workers")
        return dataclasses.replace(self, workers=workers)


@dataclass(frozen=True)
class _Key:
    path: str
    attr: str
    parse_fn: Callable[[Any], Any]
    in_file: bool = True

    @property
    def env_name(self) -> str:
        return "OCTOPUS_" + self.path.replace(".", "_").upper()

    def parse(self, raw: Any, origin: str) -> Any:
        try:
            return self.parse_fn(raw)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"config key {self.path} (from {origin}): {exc}") from None


def _port(raw: Any) -> int:
    port = _int(raw)  # 0 = any free port; the bound one is logged ("octopus listening")
    if not 0 <= port <= 65535:
        raise ValueError(f"must be a port between 0 and 65535, got {port}")
    return port


def _int(raw: Any) -> int:
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        raise ValueError(f"must be an integer, got {raw!r}")
    try:
        return int(raw)
    except (ValueError, TypeError):
        raise ValueError(f"must be an integer, got {raw!r}") from None


def _positive_int(raw: Any) -> int:
    value = _int(raw)
    if value <= 0:
        raise ValueError(f"must be a positive integer, got {value}")
    return value


def _positive_float(raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError(f"must be a number, got {raw!r}")
    try:
        value = float(raw)
    except (ValueError, TypeError):
        raise ValueError(f"must be a number, got {raw!r}") from None
    if not 0 < value < float("inf"):
        raise ValueError(f"must be a positive number, got {raw!r}")
    return value


def _non_negative_int(raw: Any) -> int:
    value = _int(raw)
    if value < 0:
        raise ValueError(f"must be 0 (one per core) or a positive integer, got {value}")
    return value


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        value = _text(raw).strip().lower()
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}, got {raw!r}")
        return value

    return parse


def _text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"must be a string, got {type(raw).__name__}")
    return raw


def _nonempty(raw: Any) -> str:
    value = _text(raw).strip()
    if not value:
        raise ValueError("must not be empty")
    return value


def _timezone(raw: Any) -> str:
    """An IANA zone name (`Asia/Shanghai`); a POSIX TZ's leading ':' is dropped."""
    name = _text(raw).strip().removeprefix(":")
    if not name or name.startswith(("/", ".")):
        raise ValueError(f"must be an IANA time zone name like Asia/Shanghai, got {raw!r}")
    try:
        return ZoneInfo(name).key
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {raw!r}") from None


def _flag(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    value = _text(raw).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"must be true or false, got {raw!r}")


def _redis_url(raw: Any) -> str:
    value = _text(raw).strip()
    if value and not value.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("must be a redis://, rediss:// or unix:// URL, or empty")
    return value


def _networks(raw: Any) -> tuple[str, ...]:
    """A list (or comma-separated text) of IP addresses or networks."""
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ValueError("must be a list of IP addresses or networks")
    names = tuple(item.strip() for item in items if item.strip())
    for name in names:
        ipaddress.ip_network(name, strict=False)  # ValueError names the bad entry
    return names


KEYS: tuple[_Key, ...] = (
    _Key("server.host", "host", _nonempty),
    _Key("server.port", "port", _port),
    _Key("server.workers", "workers", _non_negative_int, in_file=False),
    _Key("server.trusted_proxies", "trusted_proxies", _networks, in_file=False),
    _Key("server.max_import_size", "max_import_size", _positive_int, in_file=False),
    _Key("admin.password", "admin_password", _text, in_file=False),
    _Key("database.type", "database_type", _choice(DATABASE_TYPES)),
    _Key("database.path", "database_path", _nonempty),
    _Key("log.level", "log_level", _choice(LOG_LEVELS)),
    _Key("github.pat", "github_pat", _text, in_file=False),
    _Key("prices.models_dev_url", "models_dev_url", _text, in_file=False),
    _Key("update.repository", "update_repository", _text, in_file=False),
    _Key("relay.max_sse_event_size", "relay_max_sse_event_size", _positive_int),
    _Key("relay.max_body_size", "relay_max_body_size", _positive_int),
    _Key("redis.url", "redis_url", _redis_url),
    _Key("redis.prefix", "redis_prefix", _nonempty),
    _Key("server.shutdown_grace_seconds", "shutdown_grace_seconds", _positive_int, in_file=False),
    _Key("timezone", "timezone", _timezone, in_file=False),
    _Key("debug", "debug", _flag, in_file=False),
    _Key("config.poll_seconds", "config_poll_seconds", _positive_float, in_file=False),
)

_MISSING: Any = object()


def _pick(key: _Key, file_values: Mapping[str, Any], env: Mapping[str, str]) -> tuple[Any, str]:
    if key.env_name in env:
        return env[key.env_name], key.env_name
    node: Any = file_values
    for part in key.path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING, ""
        node = node[part]
    return node, "config file"


def default_document() -> dict[str, Any]:
    """The config.json written on first start: every file key with its default."""
    defaults = Settings()
    doc: dict[str, Any] = {}
    for key in KEYS:
        if not key.in_file:
            continue
        section, name = key.path.split(".", 1)
        doc.setdefault(section, {})[name] = getattr(defaults, key.attr)
    return doc


def _read_or_create(path: Path) -> Mapping[str, Any]:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(default_document(), indent=2) + "\n", encoding="utf-8")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid JSON: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"config file {path} must hold a JSON object")
    return document
