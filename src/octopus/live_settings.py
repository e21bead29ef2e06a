"""LiveSettings: the admin-editable settings (the `settings` table) in memory, typed and observable.

Every key is validated and normalised to the string that is stored; readers use the typed
properties, and subscribers are called after a change so the new value applies without a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from octopus.records.bodies import BodyMode

_BODY_MODES = {mode.value: mode for mode in BodyMode}

log = logging.getLogger("octopus.settings")
PROXY_SCHEMES = ("http", "https", "socks5")
MAX_BODY_BYTES = 64 * 1024 * 1024
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off", "")

Listener = Callable[[str, str], None]


class SettingError(ValueError):
    """A value a setting refuses; the message says which key and what it accepts."""


class UnknownSetting(KeyError):
    def __str__(self) -> str:
        return "setting not found"


def mask_secret(secret: str) -> str:
    """A recognisable but useless form of a secret: `sk-ab…wxyz`; short secrets show nothing."""
    if not secret:
        return ""
    if len(secret) < 12:
        return "…" + secret[-2:] if len(secret) >= 8 else "****"
    return f"{secret[:5]}…{secret[-4:]}"


def proxy_url_problem(value: str) -> str | None:
    """Why a proxy URL is unusable (None when it is fine); empty means no proxy."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in PROXY_SCHEMES:
        return "must use the scheme http, https or socks5"
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return "has an invalid port"
    if not host:
        return "must include a host"
    return None


def _text(raw: object) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, int | float | str):
        return str(raw).strip()
    raise SettingError("value must be a string, a number or a boolean")


def _integer(low: int, high: int | None = None) -> Callable[[str, str], str]:
    def check(key: str, value: str) -> str:
        try:
            number = int(value)
        except ValueError:
            raise SettingError(f"{key} must be an integer, got {value!r}") from None
        if number < low or (high is not None and number > high):
            upper = f" and at most {high}" if high is not None else ""
            raise SettingError(f"{key} must be at least {low}{upper}, got {number}")
        return str(number)

    return check


def _proxy(key: str, value: str) -> str:
    problem = proxy_url_problem(value)
    if problem:
        raise SettingError(f"{key} {problem} (for example http://127.0.0.1:7890)")
    return value


def _origins(key: str, value: str) -> str:
    items = [item.strip().rstrip("/") for item in value.split(",")]
    items = list(dict.fromkeys(item for item in items if item))
    for item in items:
        if item == "*":
            continue
        if any(c.isspace() for c in item) or "*" in item:
            raise SettingError(f"{key}: {item!r} is not an origin (https://a.com), a host or *")
        if "://" in item:
            parts = urlsplit(item)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
                raise SettingError(f"{key}: {item!r} must look like https://a.com[:port]")
    return ",".join(items)


def _mode(key: str, value: str) -> str:
    lowered = value.lower()
    if lowered not in {m.value for m in BodyMode}:
        raise SettingError(f"{key} must be one of off, errors, all; got {value!r}")
    return lowered


def _boolean(key: str, value: str) -> str:
    lowered = value.lower()
    if lowered in _TRUE:
        return "true"
    if lowered in _FALSE:
        return "false"
    raise SettingError(f"{key} must be true or false, got {value!r}")


def _token(key: str, value: str) -> str:
    if len(value) > 256 or any(c.isspace() for c in value):
        raise SettingError(f"{key} must be at most 256 characters without spaces")
    return value


@dataclass(frozen=True)
class _Spec:
    default: str
    check: Callable[[str, str], str]
    secret: bool = False


SPECS: dict[str, _Spec] = {
    "proxy_url": _Spec("", _proxy),
    "cors_allow_origins": _Spec("", _origins),
    "model_info_update_interval": _Spec("24", _integer(0)),
    "sync_llm_interval": _Spec("24", _integer(0)),
    # kept for Go dumps: stats are written with the log batches, so this has no effect
    "stats_save_interval": _Spec("10", _integer(1)),
    "log_retention_days": _Spec("30", _integer(0)),
    "log_body_retention_days": _Spec("7", _integer(0)),
    "log_body_mode": _Spec(BodyMode.ERRORS.value, _mode),
    "log_body_max_bytes": _Spec("65536", _integer(0, MAX_BODY_BYTES)),
    "metrics_enabled": _Spec("false", _boolean),
    "metrics_token": _Spec("", _token, secret=True),
}


def normalise(key: str, raw: object) -> str:
    """The stored form of a value; UnknownSetting or SettingError when refused."""
    spec = SPECS.get(key)
    if spec is None:
        raise UnknownSetting(key)
    return spec.check(key, _text(raw))


class LiveSettings:
    """Current values of every setting; `set` applies a value and notifies subscribers."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = {key: spec.default for key, spec in SPECS.items()}
        self._listeners: list[tuple[frozenset[str] | None, Listener]] = []
        if values:
            self.load(values)

    def load(self, stored: Mapping[str, str]) -> None:
        """Take stored values; unknown keys are ignored, invalid ones keep the default."""
        for key, raw in stored.items():
            if key not in SPECS:
                continue
            try:
                self._values[key] = normalise(key, raw)
            except SettingError as exc:
                log.warning("ignoring a stored setting: %s", exc)

    def get(self, key: str) -> str:
        if key not in SPECS:
            raise UnknownSetting(key)
        return self._values[key]

    def items(self, *, masked: bool = True) -> list[tuple[str, str]]:
        """Every setting in a stable order; secrets masked unless asked otherwise."""
        return [
            (key, mask_secret(self._values[key]) if masked and spec.secret else self._values[key])
            for key, spec in SPECS.items()
        ]

    def is_masked_echo(self, key: str, value: str) -> bool:
        """True when a client sends back the masked form of a secret it was shown."""
        spec = SPECS.get(key)
        current = self._values.get(key, "")
        return bool(spec and spec.secret and current and value == mask_secret(current))

    def set(self, key: str, value: str) -> bool:
        """Apply an already normalised value; True (and listeners called) when it changed."""
        if key not in SPECS:
            raise UnknownSetting(key)
        if self._values[key] == value:
            return False
        self._values[key] = value
        for keys, listener in list(self._listeners):
            if keys is None or key in keys:
                try:
                    listener(key, value)
                except Exception:
                    log.exception("a settings listener failed")
        return True

    def subscribe(
        self, listener: Listener, keys: frozenset[str] | None = None
    ) -> Callable[[], None]:
        """Call `listener(key, value)` after a change (of `keys` only); returns unsubscribe."""
        entry = (keys, listener)
        self._listeners.append(entry)
        return lambda: self._listeners.remove(entry) if entry in self._listeners else None

    def _int(self, key: str) -> int:
        return int(self._values[key])

    @property
    def proxy_url(self) -> str | None:
        return self._values["proxy_url"] or None

    @property
    def cors_allow_origins(self) -> tuple[str, ...]:
        value = self._values["cors_allow_origins"]
        return tuple(value.split(",")) if value else ()

    @property
    def model_info_update_interval(self) -> int:
        """Hours between models.dev price refreshes; 0 disables."""
        return self._int("model_info_update_interval")

    @property
    def sync_llm_interval(self) -> int:
        """Hours between channel model syncs; 0 disables."""
        return self._int("sync_llm_interval")

    @property
    def stats_save_interval(self) -> int:
        return self._int("stats_save_interval")

    @property
    def log_retention_days(self) -> int:
        """Days request logs are kept; 0 keeps them forever."""
        return self._int("log_retention_days")

    @property
    def log_body_retention_days(self) -> int:
        """Days request/response bodies are kept; 0 keeps them as long as the log."""
        return self._int("log_body_retention_days")

    @property
    def log_body_mode(self) -> BodyMode:
        value = self._values["log_body_mode"]
        return _BODY_MODES.get(value) or BodyMode(value)  # read per request: no enum call

    @property
    def log_body_max_bytes(self) -> int:
        return self._int("log_body_max_bytes")

    @property
    def metrics_enabled(self) -> bool:
        return self._values["metrics_enabled"] == "true"

    @property
    def metrics_token(self) -> str:
        return self._values["metrics_token"]
