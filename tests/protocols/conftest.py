"""Parametrizes the protocol tests over every golden fixture and every wire format."""

from __future__ import annotations

import pytest

from octopus.protocols import WireFormat
from tests.protocols import golden

PARAMS = {
    "request_file": golden.request_files(),
    "response_file": golden.response_files(),
    "stream_file": golden.stream_files(),
    "error_file": golden.error_files(),
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for name, paths in PARAMS.items():
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, paths, ids=golden.ids(paths))
    if "target" in metafunc.fixturenames:
        metafunc.parametrize("target", list(WireFormat), ids=[f.value for f in WireFormat])
