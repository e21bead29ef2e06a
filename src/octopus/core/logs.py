"""Structured (logfmt) logging at the configured level, with secrets scrubbed from every line."""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

_SECRET_PATTERNS = (
    re.compile(r"sk-octopus-[A-Za-z0-9]{6,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]{8,}"),
    re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_\-]{12,}"),
    re.compile(r"\bAIza[0-9A-Za-z_\-]{20,}"),
    re.compile(
        r"(?i)((?:password|passwd|api[_-]?key|token|secret)[\"']?\s*[:=]\s*[\"']?)[^\s\"',&]+"
    ),
    re.compile(r"(://[^:/@\s]+:)[^@/\s]+(@)"),
)
_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def scrub(text: str) -> str:
    """Replace anything that looks like a key, token or password with a mask."""
    if not text:
        return text
    for pattern in _SECRET_PATTERNS:
        if pattern.groups == 2:
            text = pattern.sub(lambda m: m.group(1) + "***" + m.group(2), text)
        elif pattern.groups == 1:
            text = pattern.sub(lambda m: m.group(1) + "***", text)
        else:
            text = pattern.sub("***", text)
    return text


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        fields: dict[str, Any] = {
            "ts": f"{stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields.update(getattr(record, "fields", {}))
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        return scrub(" ".join(f"{k}={_quote(v)}" for k, v in fields.items()))


def _quote(value: Any) -> str:
    text = str(value)
    if text and not any(c in text for c in ' "=\n'):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def setup_logging(level: str, debug: bool = False) -> None:
    """`debug` (OCTOPUS_DEBUG): debug level, every SQL statement (never its values) and one
    line per HTTP request; secrets are scrubbed from every line either way."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogfmtFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else _LEVELS.get(level, logging.INFO))
    for noisy in ("uvicorn.access", "aiosqlite", "asyncio", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if debug:
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
        logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    logging.getLogger("uvicorn.error").handlers[:] = []
    # uvicorn reads this logger's own level on every connection: left unset (0) it calls
    # .log(TRACE, ...) twice per connection for nothing; the root's level changes no output
    logging.getLogger("uvicorn.error").setLevel(root.level)
    logging.getLogger("uvicorn").handlers[:] = []
    logging.getLogger("uvicorn").propagate = True
    logging.getLogger("uvicorn.error").propagate = True
