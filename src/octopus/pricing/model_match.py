"""Model-name matching against a price table, and the models.dev `api.json` filter (pure).

Matching (the reference's `GetLLMPrice`): the exact lower-case id wins; otherwise the name is
split into segments on every character outside [a-z0-9.], and a table id matches when all its
segments appear as a contiguous run of the name's segments. The id with the most segments wins;
a tie between ids with different values is ambiguous and gives no match. This resolves provider
prefixes and date or variant suffixes: `anthropic/claude-sonnet-4-5-20250929-thinking` →
`claude-sonnet-4-5`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

V = TypeVar("V")

_SPLIT = re.compile(r"[^a-z0-9.]+")

# models.dev provider → the family prefixes kept from it (reference 7.1)
PROVIDER_FAMILIES: Mapping[str, tuple[str, ...]] = {
    "openai": ("gpt", "o"),
    "anthropic": ("claude",),
    "google": ("gemini", "gemma", "lyria", "veo"),
    "deepseek": ("deepseek",),
    "xai": ("grok",),
    "alibaba": ("qwen", "qvq"),
    "zhipuai": ("glm",),
    "minimax": ("minimax",),
    "moonshotai": ("kimi",),
    "v0": ("v0",),
    "xiaomi": ("mimo",),
}


def segments(name: str) -> tuple[str, ...]:
    """Lower-case segments: `Anthropic/Claude-3.5_x` → (anthropic, claude, 3.5, x)."""
    return tuple(part for part in _SPLIT.split(name.lower()) if part)


@dataclass(frozen=True, slots=True)
class Match(Generic[V]):
    key: str  # the table id that matched
    value: V
    exact: bool


class NameMatcher(Generic[V]):
    """An immutable index over `{id: value}`; ids are compared lower-case."""

    __slots__ = ("_by_head", "_exact")

    def __init__(self, table: Mapping[str, V]) -> None:
        self._exact: dict[str, V] = {key.strip().lower(): value for key, value in table.items()}
        self._by_head: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for key in self._exact:
            parts = segments(key)
            if parts:
                self._by_head.setdefault(parts[0], []).append((parts, key))

    def __len__(self) -> int:
        return len(self._exact)

    def lookup(self, name: str) -> Match[V] | None:
        lowered = name.strip().lower()
        if lowered in self._exact:
            return Match(lowered, self._exact[lowered], exact=True)
        return self._by_segments(segments(lowered))

    def _by_segments(self, parts: tuple[str, ...]) -> Match[V] | None:
        best = 0
        found: dict[str, V] = {}
        for start, head in enumerate(parts):
            for ref, key in self._by_head.get(head, ()):
                size = len(ref)
                if size < best or parts[start : start + size] != ref:
                    continue
                if size > best:
                    best, found = size, {}
                found[key] = self._exact[key]
        if not found:
            return None
        values = list(found.values())
        if any(value != values[0] for value in values[1:]):
            return None  # ambiguous: same length, different values
        return Match(min(found), values[0], exact=False)


@dataclass(frozen=True, slots=True)
class Rates:
    """USD per 1M tokens."""

    input: float = 0.0
    output: float = 0.0
    cache_read: float = 0.0
    cache_write: float = 0.0

    @property
    def is_zero(self) -> bool:
        return not (self.input or self.output or self.cache_read or self.cache_write)


def parse_models_dev(doc: Any) -> dict[str, Rates]:
    """`{lower-case id: Rates}` from a models.dev `api.json` document, filtered as reference 7.1.

    Kept: models of the providers in PROVIDER_FAMILIES whose family starts with one of the
    provider's prefixes, that output text, that are not embeddings and that carry a `cost`.
    Raises ValueError when the document is not a JSON object.
    """
    if not isinstance(doc, dict):
        raise ValueError("models.dev document is not a JSON object")
    table: dict[str, Rates] = {}
    for provider, prefixes in PROVIDER_FAMILIES.items():
        entry = doc.get(provider)
        models = entry.get("models") if isinstance(entry, dict) else None
        if not isinstance(models, dict):
            continue
        for key, model in models.items():
            parsed = _model_rates(key, model, prefixes)
            if parsed is not None and parsed[0] not in table:
                table[parsed[0]] = parsed[1]
    return table


def _model_rates(key: str, model: Any, prefixes: tuple[str, ...]) -> tuple[str, Rates] | None:
    if not isinstance(model, dict):
        return None
    model_id = str(model.get("id") or key).strip().lower()
    family = str(model.get("family") or "").strip().lower()
    if not model_id or "embed" in model_id or "embed" in family:
        return None
    if not family.startswith(prefixes) or not _outputs_text(model.get("modalities")):
        return None
    cost = model.get("cost")
    if not isinstance(cost, dict):
        return None
    rates = Rates(
        _usd(cost.get("input")),
        _usd(cost.get("output")),
        _usd(cost.get("cache_read")),
        _usd(cost.get("cache_write")),
    )
    return model_id, rates


def _outputs_text(modalities: Any) -> bool:
    if not isinstance(modalities, dict):
        return False
    output = modalities.get("output")
    return isinstance(output, list) and "text" in output


def _usd(value: Any) -> float:
    """A price as a finite non-negative float; anything else counts as 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    number = float(value)
    return number if math.isfinite(number) and number > 0 else 0.0
