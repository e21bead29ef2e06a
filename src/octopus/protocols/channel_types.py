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
