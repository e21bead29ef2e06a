"""The WireFormat enum: which provider API dialect a body speaks."""

from __future__ import annotations

from enum import StrEnum


class WireFormat(StrEnum):
    """A provider API dialect; the values are the channel `type` strings of the admin API."""

    OPENAI_CHAT = "openai"
    OPENAI_RESPONSES = "openai_responses"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"
