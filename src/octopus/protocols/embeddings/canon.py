"""The embeddings request and answer between the two dialects (OpenAI and Gemini)."""

from __future__ import annotations

import msgspec

from octopus.protocols import canonical as c


class EmbedInput(msgspec.Struct, frozen=True):
    """One thing to embed: text, or (OpenAI only) token ids."""

    text: str | None = None
    tokens: list[int] | None = None


class EmbedRequest(msgspec.Struct):
    inputs: list[EmbedInput]
    single: bool  # one input not in a list (OpenAI string, Gemini embedContent)
    dimensions: int | None = None
    base64: bool = False  # the client wants base64 float32 vectors (OpenAI only)
    user: str | None = None
    task_type: str | None = None
    title: str | None = None


class EmbedResponse(msgspec.Struct):
    vectors: list[list[float]]  # in input order
    model: str = ""
    usage: c.Usage | None = None
