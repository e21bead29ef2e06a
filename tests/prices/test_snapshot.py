"""The models.dev snapshot shipped in the package: loads offline and prices the common names."""

from __future__ import annotations

import pytest

from octopus.pricing.model_match import PROVIDER_FAMILIES, NameMatcher
from octopus.store.prices import snapshot_reference


def test_snapshot_loads_and_every_price_is_sane() -> None:
    table = snapshot_reference()
    assert len(table) > 50
    for name, rates in table.items():
        assert name == name.lower()
        assert "embed" not in name
        assert not rates.is_zero, name
        assert min(rates.input, rates.output, rates.cache_read, rates.cache_write) >= 0
        assert rates.output >= rates.input or name.startswith("gemini"), name


@pytest.mark.parametrize(
    ("name", "expected_id"),
    [
        ("claude-sonnet-4-5-20250929-thinking", "claude-sonnet-4-5-20250929"),
        ("anthropic/claude-sonnet-4-5", "claude-sonnet-4-5"),
        ("claude-opus-4-5", "claude-opus-4-5"),
        ("claude-haiku-4-5", "claude-haiku-4-5"),
        ("openai/gpt-4o-mini", "gpt-4o-mini"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-5-codex", "gpt-5-codex"),
        ("gpt-5.1", "gpt-5.1"),
        ("o3-mini", "o3-mini"),
        ("gemini-2.5-pro", "gemini-2.5-pro"),
        ("gemini-2.5-flash-preview-09-2025", "gemini-2.5-flash"),
        ("deepseek-chat", "deepseek-chat"),
        ("deepseek-reasoner", "deepseek-reasoner"),
        ("grok-4", "grok-4"),
        ("grok-code-fast-1", "grok-code-fast-1"),
        ("qwen3-coder-plus", "qwen3-coder-plus"),
        ("glm-4.6", "glm-4.6"),
        ("kimi-k2-0905-preview", "kimi-k2-0905-preview"),
        ("MiniMax-M2", "minimax-m2"),
    ],
)
def test_snapshot_prices_common_models(name: str, expected_id: str) -> None:
    found = NameMatcher(snapshot_reference()).lookup(name)
    assert found is not None, name
    assert found.key == expected_id


def test_snapshot_covers_the_main_providers() -> None:
    names = " ".join(snapshot_reference())
    for family in ("gpt", "claude", "gemini", "deepseek", "grok", "qwen", "glm", "kimi", "minimax"):
        assert family in names
    assert len(PROVIDER_FAMILIES) == 11
