"""The golden vectors must be there: an empty parametrization would skip the golden tests silently."""

from __future__ import annotations

from tests.fixture_paths import PROTOCOL_FIXTURES


def test_protocol_recordings_are_present() -> None:
    files = [p for p in PROTOCOL_FIXTURES.rglob("*") if p.is_file()]
    assert len(files) > 50, f"expected the shared protocol recordings under {PROTOCOL_FIXTURES}"
    kinds = {p.parent.name for p in files}
    assert {"openai-chat", "openai-responses", "anthropic", "gemini", "errors"} <= kinds
