"""Wire formats and their codecs: pure translation between provider JSON and one canonical model."""

from __future__ import annotations

from enum import StrEnum


class WireFormat(StrEnum):
    """A provider API dialect; the values are the channel `type` strings of the admin API."""

    OPENAI_CHAT = "openai"
    OPENAI_RESPONSES = "openai_responses"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"


__all__ = ["WireFormat"]
