"""A group's relay_config from the admin API: our names validated strictly, the Go project's
`member_*` names mapped and normalised the way it does (unusable values take the default)."""

from __future__ import annotations

import dataclasses
from typing import Any

from octopus.routing.catalog import RelayConfig
from octopus.web.admin.envelope import AdminError

DEFAULTS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(RelayConfig)}
# inclusive ranges, seconds unless the name says otherwise
LIMITS: dict[str, tuple[float, float]] = {
    "first_token_timeout": (1, 3600),
    "response_timeout": (1, 86400),
    "max_attempts": (1, 100),
    "retry_interval": (0, 300),
    "cooldown": (0, 86400),
    "cooldown_max": (0, 7 * 86400),
    "failure_threshold": (1, 1000),
    "sticky_seconds": (0, 7 * 86400),
    "request_deadline": (1, 86400),
}
ALIASES = {
    "member_max_attempts": "max_attempts",
    "member_retry_interval_seconds": "retry_interval",
    "member_non_stream_response_timeout_seconds": "response_timeout",
    "member_stream_first_event_timeout_seconds": "first_token_timeout",
    "member_cooldown_seconds": "cooldown",
    "member_affinity_seconds": "sticky_seconds",
}


def _bad(message: str) -> AdminError:
    return AdminError(400, f"relay_config: {message}")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _typed(name: str, value: float) -> int | float:
    return int(value) if isinstance(DEFAULTS[name], int) else value


def _in_range(name: str, value: float) -> bool:
    low, high = LIMITS[name]
    whole = not isinstance(DEFAULTS[name], int) or value.is_integer()
    return low <= value <= high and whole


def _from_alias(raw: dict[str, Any]) -> dict[str, int | float]:
    values: dict[str, int | float] = {}
    for alias, name in ALIASES.items():
        number = _number(raw.get(alias))
        # the reference treats 0 as "unset" except where 0 is a meaningful value
        if number is None or (number == 0 and LIMITS[name][0] > 0):
            continue
        if _in_range(name, number):
            values[name] = _typed(name, number)
    return values


def parse_relay_config(raw: Any) -> dict[str, int | float]:
    """The full config to store (defaults filled in); AdminError naming the offending key."""
    if raw is None:
        return dict(DEFAULTS)
    if not isinstance(raw, dict):
        raise _bad("must be an object")
    unknown = sorted(set(raw) - set(LIMITS) - set(ALIASES))
    if unknown:
        raise _bad(f"unknown key {unknown[0]!r}; known keys: {', '.join(LIMITS)}")
    values = {**DEFAULTS, **_from_alias(raw)}
    for name in LIMITS:
        if name not in raw or raw[name] is None:
            continue
        number = _number(raw[name])
        low, high = LIMITS[name]
        kind = "an integer" if isinstance(DEFAULTS[name], int) else "a number"
        if number is None or not _in_range(name, number):
            raise _bad(f"{name} must be {kind} between {low:g} and {high:g}")
        values[name] = _typed(name, number)
    if values["cooldown_max"] < values["cooldown"]:
        raise _bad("cooldown_max must be at least cooldown")
    return values
