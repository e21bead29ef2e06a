"""Embeddings in two dialects: OpenAI `POST /v1/embeddings` and Gemini `:embedContent` /
`:batchEmbedContents`. Pure translation, like the chat codecs.

    from octopus.protocols import embeddings as emb
    emb.dialect(channel_type)         -> WireFormat.OPENAI_CHAT | WireFormat.GEMINI | None
    emb.openai / emb.gemini           decode_request, encode_request, decode_response,
                                      encode_response, usage_from_response
    emb.losses(req, source, target)   what a converted request could not carry

FEATURES (what each dialect's requests can say) feed the fidelity matrix in docs/protocols.md.
"""

from __future__ import annotations

from octopus.protocols.canonical import Loss
from octopus.protocols.embeddings import gemini, openai
from octopus.protocols.embeddings.canon import EmbedInput, EmbedRequest, EmbedResponse
from octopus.protocols.formats import WireFormat

# OpenAI-type channels speak OpenAI's embeddings API at the same base URL
_DIALECTS = {
    WireFormat.OPENAI_CHAT: WireFormat.OPENAI_CHAT,
    WireFormat.OPENAI_RESPONSES: WireFormat.OPENAI_CHAT,
    WireFormat.GEMINI: WireFormat.GEMINI,
}

FEATURES: dict[WireFormat, frozenset[str]] = {
    WireFormat.OPENAI_CHAT: frozenset({"batch", "dimensions", "tokens", "user"}),
    WireFormat.GEMINI: frozenset({"batch", "dimensions", "task_type", "title"}),
}
DESCRIPTIONS: dict[str, str] = {
    "batch": "several inputs in one call, answered in input order",
    "dimensions": "`dimensions` ↔ `outputDimensionality` (one value per OpenAI call)",
    "tokens": "token-id arrays as input",
    "user": "end-user id",
    "task_type": "`taskType`",
    "title": "`title` of a retrieval document",
}
# what a target cannot express at all: that member is skipped (400 when no member can serve)
REFUSED: dict[WireFormat, frozenset[str]] = {WireFormat.GEMINI: frozenset({"tokens"})}
ALWAYS = (
    "Always kept: text inputs, their order, token usage (estimated from the request size when "
    "the upstream reports none), errors in the client's own shape, and `encoding_format: "
    "base64` (an OpenAI client served by Gemini gets little-endian float32 vectors in base64). "
    "Other channel types (`anthropic`) cannot serve embeddings: the member is skipped, and a "
    "group with no OpenAI-type or Gemini member answers 400."
)


def dialect(channel_type: WireFormat) -> WireFormat | None:
    """The embeddings dialect a channel type speaks, or None when it has no embeddings API."""
    return _DIALECTS.get(channel_type)


def losses(req: EmbedRequest, source: WireFormat, target: WireFormat) -> list[Loss]:
    """Fields the converted request had to leave out."""
    given = {
        "user": req.user is not None,
        "task_type": req.task_type is not None,
        "title": req.title is not None,
    }
    return [
        Loss(f"embeddings.{name}", source, target, "the target API has no such field")
        for name, present in given.items()
        if present and name not in FEATURES[target]
    ]


__all__ = [
    "ALWAYS",
    "DESCRIPTIONS",
    "FEATURES",
    "REFUSED",
    "EmbedInput",
    "EmbedRequest",
    "EmbedResponse",
    "dialect",
    "gemini",
    "losses",
    "openai",
]
