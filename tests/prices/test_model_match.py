"""Name matching (reference 7.1) and the models.dev filter: pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from octopus.pricing.model_match import NameMatcher, Rates, parse_models_dev, segments

TABLE = {
    "claude-sonnet-4-5": "sonnet-4.5",
    "claude-sonnet-4": "sonnet-4",
    "gpt-4o": "4o",
    "gpt-4o-mini": "4o-mini",
    "gemini-2.5-pro": "g25pro",
    "gemini-2.5-flash": "g25flash",
    "glm-4.6": "glm46",
    "o3": "o3",
    "deepseek-chat": "ds",
}


def match(name: str, table: dict[str, Any] | None = None) -> Any:
    found = NameMatcher(TABLE if table is None else table).lookup(name)
    return None if found is None else found.value


def test_segments_split_on_everything_but_letters_digits_and_dots() -> None:
    assert segments("Anthropic/Claude-3.5_Sonnet:latest") == (
        "anthropic",
        "claude",
        "3.5",
        "sonnet",
        "latest",
    )
    assert segments("--a--b//") == ("a", "b")
    assert segments("") == ()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("claude-sonnet-4-5", "sonnet-4.5"),
        ("CLAUDE-Sonnet-4-5", "sonnet-4.5"),
        ("  gpt-4o  ", "4o"),
        ("anthropic/claude-sonnet-4-5", "sonnet-4.5"),
        ("claude-sonnet-4-5-20250929", "sonnet-4.5"),
        ("anthropic/claude-sonnet-4-5-20250929-thinking", "sonnet-4.5"),
        ("claude-sonnet-4-20250514", "sonnet-4"),
        ("openai/gpt-4o-mini-2024-07-18", "4o-mini"),
        ("gpt-4o-2024-08-06", "4o"),
        ("models/gemini-2.5-pro-preview-06-05", "g25pro"),
        ("GLM-4.6", "glm46"),
        ("zai/glm-4.6:free", "glm46"),
        ("azure/o3", "o3"),
        ("deepseek/deepseek-chat-v3", "ds"),
    ],
)
def test_match(name: str, expected: str) -> None:
    assert match(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "",
        "llama-3-70b",
        "claude-sonnet",  # a prefix of an id is not enough
        "gpt-4",  # neither gpt-4o nor gpt-4o-mini is contained
        "glm-4.5",  # dots are part of a segment
        "gemini-2.5",
        "o3mini",  # segments are whole: o3 is not a segment of o3mini
    ],
)
def test_no_match(name: str) -> None:
    assert match(name) is None


def test_longest_match_wins() -> None:
    # both claude-sonnet-4 and claude-sonnet-4-5 are contiguous runs; the longer one wins
    found = NameMatcher(TABLE).lookup("x/claude-sonnet-4-5-latest")
    assert found is not None
    assert (found.key, found.value, found.exact) == ("claude-sonnet-4-5", "sonnet-4.5", False)


def test_exact_id_beats_a_longer_segment_match() -> None:
    table = {"a-b": 1, "x-a-b-c": 2, "a-b-c": 3}
    assert match("a-b", table) == 1
    found = NameMatcher(table).lookup("A-B")
    assert found is not None
    assert found.exact


def test_tie_with_different_values_is_ambiguous() -> None:
    table = {"foo-1": 1, "bar-2": 2}
    assert match("foo-1-bar-2", table) is None


def test_tie_with_equal_values_is_not_ambiguous() -> None:
    table = {"foo-1": 7, "bar-2": 7}
    found = NameMatcher(table).lookup("foo-1-bar-2")
    assert found is not None
    assert found.value == 7
    assert found.key == "bar-2"  # deterministic: the smallest id


def test_a_longer_match_resolves_a_shorter_tie() -> None:
    table = {"foo-1": 1, "bar-2": 2, "foo-1-bar": 3}
    assert match("foo-1-bar-2", table) == 3


def test_the_same_id_matching_twice_is_not_a_tie() -> None:
    assert match("gpt-4o-vs-gpt-4o") == "4o"


def test_table_ids_are_case_insensitive_and_segmented_like_names() -> None:
    table = {"MiniMax-M2": "m2", "vendor/Model_X": "mx"}
    assert match("minimax-m2", table) == "m2"
    assert match("MINIMAX-M2-preview", table) == "m2"
    assert match("acme:vendor-model-x-1", table) == "mx"
    assert len(NameMatcher(table)) == 2


def _model(
    model_id: str, family: str, cost: Any = None, output: tuple[str, ...] = ("text",)
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": model_id,
        "family": family,
        "modalities": {"input": ["text"], "output": list(output)},
    }
    if cost is not None:
        doc["cost"] = cost
    return doc


def test_parse_models_dev_filters_as_the_reference() -> None:
    cost = {"input": 1, "output": 2, "cache_read": 0.5, "cache_write": 1.25}
    doc = {
        "openai": {
            "models": {
                "gpt-5": _model("gpt-5", "gpt-5", cost),
                "o4-mini": _model("o4-mini", "o4-mini", cost),
                "text-embedding-3": _model("text-embedding-3", "text-embedding", cost),
                "gpt-embed-x": _model("gpt-embed-x", "gpt", cost),  # "embed" in the id
                "dall-e-3": _model("dall-e-3", "dall-e", cost),  # family not gpt/o
                "gpt-image-1": _model("gpt-image-1", "gpt-image", cost, output=("image",)),
                "gpt-free": _model("gpt-free", "gpt", None),  # no cost: no price
            }
        },
        "anthropic": {"models": {"Claude-X": _model("Claude-X", "claude", {"input": 3})}},
        "openrouter": {"models": {"gpt-5": _model("gpt-5", "gpt-5", {"input": 99})}},
        "google": {"models": {"gemma-3": _model("gemma-3", "gemma", {"input": 0.1})}},
        "xai": "not an object",
        "deepseek": {"models": []},
    }
    table = parse_models_dev(doc)
    assert table == {
        "gpt-5": Rates(1, 2, 0.5, 1.25),
        "o4-mini": Rates(1, 2, 0.5, 1.25),
        "claude-x": Rates(3, 0, 0, 0),
        "gemma-3": Rates(0.1, 0, 0, 0),
    }


def test_parse_models_dev_sanitises_costs() -> None:
    cost = {"input": -1, "output": "2", "cache_read": True, "cache_write": float("inf")}
    doc = {"xai": {"models": {"grok-9": _model("grok-9", "grok", cost)}}}
    assert parse_models_dev(doc) == {"grok-9": Rates()}
    assert Rates().is_zero
    assert not Rates(cache_write=0.1).is_zero


def test_parse_models_dev_uses_the_key_when_the_id_is_missing() -> None:
    doc = {"moonshotai": {"models": {"kimi-k2": {**_model("", "kimi", {"input": 1})}}}}
    assert parse_models_dev(doc) == {"kimi-k2": Rates(1)}


def test_parse_models_dev_refuses_a_non_object() -> None:
    with pytest.raises(ValueError, match="not a JSON object"):
        parse_models_dev([1, 2])
