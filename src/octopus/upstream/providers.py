"""Per-provider URL, path and auth headers; no conversion logic."""

from __future__ import annotations

from octopus.protocols import WireFormat
from octopus.protocols.channel_types import FULL_URL_MARK

ANTHROPIC_VERSION = "2023-06-01"

# headers a channel's custom_header may never replace: credentials and what the transport owns
PROTECTED_HEADERS = frozenset(
    {
        "authorization",
        "x-api-key",
        "x-goog-api-key",
        "api-key",
        "proxy-authorization",
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "accept-encoding",
    }
)

_PATHS = {
    WireFormat.OPENAI_CHAT: "/chat/completions",
    WireFormat.OPENAI_RESPONSES: "/responses",
    WireFormat.ANTHROPIC: "/messages",
}


def endpoint_url(kind: WireFormat, base_url: str, model: str, *, stream: bool) -> str:
    """The generation endpoint; a base ending in `##` is used verbatim."""
    base = base_url.strip()
    if base.endswith(FULL_URL_MARK):
        return base[: -len(FULL_URL_MARK)]
    base = base.rstrip("/")
    if kind is WireFormat.GEMINI:
        action = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return f"{base}/models/{model}:{action}"
    return base + _PATHS[kind]


def embeddings_url(kind: WireFormat, base_url: str, model: str, action: str) -> str | None:
    """The embeddings endpoint (`action` is Gemini's); None for a `##` URL naming another one."""
    base = base_url.strip()
    if base.endswith(FULL_URL_MARK):
        return None
    base = base.rstrip("/")
    if kind is WireFormat.GEMINI:
        return f"{base}/models/{model}:{action}"
    return base + "/embeddings"


def models_url(base_url: str) -> str:
    base = base_url.strip()
    if base.endswith(FULL_URL_MARK):
        base = base[: -len(FULL_URL_MARK)]
    return base.rstrip("/") + "/models"


def auth_headers(kind: WireFormat, key: str) -> list[tuple[str, str]]:
    if kind is WireFormat.ANTHROPIC:
        return [("x-api-key", key)]
    if kind is WireFormat.GEMINI:
        return [("x-goog-api-key", key)]
    return [("Authorization", f"Bearer {key}")]


def required_headers(kind: WireFormat, client_headers: dict[str, str]) -> list[tuple[str, str]]:
    """Headers the provider insists on; a client's own anthropic-version wins."""
    if kind is WireFormat.ANTHROPIC and "anthropic-version" not in client_headers:
        return [("anthropic-version", ANTHROPIC_VERSION)]
    return []
