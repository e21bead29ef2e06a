"""The latest release of this project on GitHub (the update check; there is no self-update)."""

from __future__ import annotations

from dataclasses import dataclass

from octopus.errors import UpstreamProtocol
from octopus.upstream.modelsdev import get_json
from octopus.upstream.transport import Transport

API_ROOT = "https://api.github.com"


@dataclass(frozen=True, slots=True)
class Release:
    tag_name: str
    published_at: str
    body: str
    message: str  # GitHub's own note, if any (normally empty)


def releases_url(repository: str) -> str:
    """`owner/name`, a github.com URL, or a full API URL → the `releases/latest` API URL."""
    text = repository.strip().rstrip("/")
    if text.startswith(("http://", "https://")) and "/releases/latest" in text:
        return text
    for prefix in ("https://github.com/", "http://github.com/", "github.com/"):
        text = text.removeprefix(prefix)
    text = text.removesuffix(".git")
    return f"{API_ROOT}/repos/{text}/releases/latest"


async def latest_release(
    transport: Transport, url: str, *, token: str = "", proxy_url: str | None = None
) -> Release:
    """Raises UpstreamStatus (e.g. 404 when nothing is published, 403 rate limit),
    UpstreamProtocol (unexpected answer), UpstreamConnect / UpstreamTimeout (offline)."""
    headers = [
        ("User-Agent", "octopus-update-check"),
        ("Accept", "application/vnd.github+json"),
        ("X-GitHub-Api-Version", "2022-11-28"),
    ]
    if token:
        headers.append(("Authorization", f"Bearer {token}"))
    doc = await get_json(
        transport, url, headers, proxy_url=proxy_url, secrets=(token,), read_timeout=30.0
    )
    if not isinstance(doc, dict) or not isinstance(doc.get("tag_name"), str):
        raise UpstreamProtocol("GitHub answered without a release tag")
    return Release(
        tag_name=doc["tag_name"],
        published_at=str(doc.get("published_at") or ""),
        body=str(doc.get("body") or ""),
        message=str(doc.get("message") or ""),
    )
