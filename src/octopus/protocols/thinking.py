"""Reasoning effort ↔ thinking budget: the one table every codec uses to translate."""

from __future__ import annotations

from octopus.protocols import canonical as c

# token budgets an OpenAI effort level stands for (Anthropic's minimum budget is 1024)
EFFORT_BUDGET: dict[str, int] = {
    "minimal": 1024,
    "low": 4096,
    "medium": 10240,
    "high": 24576,
    "xhigh": 32768,
    "max": 32768,
}
DEFAULT_EFFORT: c.Effort = "medium"
DYNAMIC = -1


def effort_of(cfg: c.ReasoningConfig | None) -> c.Effort | None:
    """The effort a budget-only config implies; None when thinking is off or unspecified."""
    if cfg is None:
        return None
    if cfg.effort is not None:
        return cfg.effort
    if cfg.budget is None or cfg.budget in (0, DYNAMIC):
        return None
    if cfg.budget <= EFFORT_BUDGET["low"]:
        return "low"
    if cfg.budget <= 12288:
        return "medium"
    return "high"


def budget_of(cfg: c.ReasoningConfig | None) -> int | None:
    """The token budget a config implies (-1 dynamic, 0 off); None when unspecified."""
    if cfg is None:
        return None
    if cfg.budget is not None:
        return cfg.budget
    if cfg.effort is None:
        return None
    if cfg.effort == "none":
        return 0
    return EFFORT_BUDGET[cfg.effort]


def openai_effort(cfg: c.ReasoningConfig | None) -> str | None:
    """Effort for OpenAI Chat/Responses: `max` does not exist there."""
    effort = effort_of(cfg)
    return "xhigh" if effort == "max" else effort
