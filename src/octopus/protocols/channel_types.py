"""Channel types: the wire format each speaks and the base URL its paths hang from."""

from __future__ import annotations

from urllib.parse import urlsplit

from octopus.protocols.formats import WireFormat

FULL_URL_MARK = "##"  # a base URL ending in it is the full endpoint, used verbatim
VOLCENGINE = "volcengine"  # Volcengine Ark (Doubao): OpenAI Chat Completions under /api/v3
CHANNEL_TYPES = (*(f.value for f in WireFormat), VOLCENGINE)


def channel_wire(channel_type: str, base_url: str) -> tuple[WireFormat, str]:
    """The wire format a channel type speaks and the base URL its paths hang from.

    ValueError for a type we do not know.
    """
    if channel_type == VOLCENGINE:
        return WireFormat.OPENAI_CHAT, _version_v3(base_url)
    return WireFormat(channel_type), base_url


def _version_v3(base_url: str) -> str:
    """Ark's version segment: a bare host gets /api/v3, any other path without it gets /v3."""
    base = base_url.strip()
    if base.endswith(FULL_URL_MARK):
        return base
    base = base.rstrip("/")
    path = urlsplit(base).path
    if path.endswith("/v3"):
        return base
    return base + ("/api/v3" if not path else "/v3")


# The Go v0.13 "generic" channel: one base URL (no version), a path per protocol it serves, and
# grants whose bitmask names the protocols: chat 2, responses 4, messages 8 (Go's bits); Gemini
# is ours, 16. Bit 1 is not used.
GENERIC = "generic"
PROTOCOL_BITS: dict[WireFormat, int] = {
    WireFormat.OPENAI_CHAT: 2,
    WireFormat.OPENAI_RESPONSES: 4,
    WireFormat.ANTHROPIC: 8,
    WireFormat.GEMINI: 16,
}
PATH_FIELDS: dict[WireFormat, str] = {
    WireFormat.OPENAI_CHAT: "openai_chat_completion_path",
    WireFormat.OPENAI_RESPONSES: "openai_response_path",
    WireFormat.ANTHROPIC: "anthropic_message_path",
    WireFormat.GEMINI: "gemini_path",  # a prefix: /models/{model}:generateContent is added
}
ALL_BITS = sum(PROTOCOL_BITS.values())


def protocols_in(mask: int) -> list[WireFormat]:
    """The protocols a grant's bitmask names, in the order chat, responses, messages, Gemini."""
    return [kind for kind, bit in PROTOCOL_BITS.items() if mask & bit]


def generic_endpoint(base_url: str, kind: WireFormat, path: str) -> str:
    """The base the relay's endpoint_url takes: the full URL (`##`), or Gemini's prefix."""
    joined = base_url.strip().rstrip("/") + "/" + path.strip().lstrip("/")
    return joined.rstrip("/") if kind is WireFormat.GEMINI else joined + FULL_URL_MARK


def generic_models_base(base_url: str, kind: WireFormat, path: str) -> str:
    """Where a generic channel lists its models: /v1/models, or {Gemini prefix}/models."""
    base = base_url.strip().rstrip("/")
    if kind is WireFormat.GEMINI:
        return base + "/" + path.strip().strip("/")
    return base + "/v1"
