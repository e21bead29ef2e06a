"""The process's logging setup (core/logs.py): uvicorn's lines still come, its per-connection
trace calls do not."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from uvicorn.logging import TRACE_LOG_LEVEL

from octopus.core.logs import setup_logging

NAMES = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


@pytest.fixture
def restored() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in NAMES]
    saved = [(lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    yield
    for lg, (handlers, level, propagate) in zip(loggers, saved, strict=True):
        lg.handlers[:], lg.propagate = handlers, propagate
        lg.setLevel(level)


@pytest.mark.usefixtures("restored")
@pytest.mark.parametrize(("level", "debug"), [("info", False), ("warning", False), ("info", True)])
def test_uvicorn_skips_its_trace_calls_and_keeps_its_lines(
    level: str, debug: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging(level, debug)
    error = logging.getLogger("uvicorn.error")
    assert error.level > TRACE_LOG_LEVEL  # uvicorn: `if self.logger.level <= TRACE: .log(...)`
    assert error.getEffectiveLevel() == logging.getLogger().getEffectiveLevel()
    error.warning("shutting down")
    error.log(TRACE_LOG_LEVEL, "HTTP connection made")
    lines = capsys.readouterr().err
    assert "shutting down" in lines
    assert "connection made" not in lines
