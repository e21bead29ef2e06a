"""Serves the admin panel: index.html never cached, assets under a content-hash path for a year."""

from __future__ import annotations

import base64
import gzip
import hashlib
import mimetypes
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

PANEL_DIR = Path(__file__).parent / "panel"
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
# files the browser asks for at the panel root, besides index.html
ROOT_FILES = ("manifest.webmanifest", "favicon.svg", "sw.js")  # sw.js: scope = the panel root
_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".html": "text/html",
}
_COMPRESSIBLE = (".js", ".mjs", ".css", ".json", ".svg", ".html", ".webmanifest", "")
_INLINE_SCRIPT = re.compile(rb"<script(?: type=\"importmap\")?>(.*?)</script>", re.DOTALL)


@dataclass(frozen=True, slots=True)
class PanelFile:
    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str


def _make_file(body: bytes, name: str) -> PanelFile:
    suffix = Path(name).suffix
    media = _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media.startswith("text/") or media.endswith(("json", "javascript", "+xml")):
        media += "; charset=utf-8"
    packed = gzip.compress(body, 9, mtime=0) if suffix in _COMPRESSIBLE else None
    if packed is not None and len(packed) >= len(body):
        packed = None
    digest = hashlib.sha256(body).hexdigest()[:16]
    return PanelFile(body, packed, media, f'"{digest}"')


@dataclass(frozen=True, slots=True)
class Panel:
    """Every panel file held in memory (the panel is small), plus the rendered index."""

    version: str
    assets: dict[str, PanelFile]
    root: dict[str, PanelFile]
    index: PanelFile
    csp: str


def _csp(html: bytes) -> str:
    # inline scripts (import map, theme before paint) are allowed by hash, nothing else inline
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode() + "'"
        for m in _INLINE_SCRIPT.finditer(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "frame-ancestors 'none'"
    )


def load_panel(directory: Path = PANEL_DIR) -> Panel:
    """Read the panel folder; the asset version is a hash of every asset's path and bytes."""
    assets_dir = directory / "assets"
    assets: dict[str, PanelFile] = {}
    hasher = hashlib.sha256()
    for path in sorted(p for p in assets_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(assets_dir).as_posix()
        body = path.read_bytes()
        hasher.update(rel.encode() + b"\0" + body)
        assets[rel] = _make_file(body, rel)
    version = "v-" + hasher.hexdigest()[:12]
    root = {
        name: _make_file((directory / name).read_bytes(), name)
        for name in ROOT_FILES
        if (directory / name).is_file()
    }
    html = (
        (directory / "index.html")
        .read_bytes()
        .replace(b"./assets/", f"./assets/{version}/".encode())
    )
    return Panel(version, assets, root, _make_file(html, "index.html"), _csp(html))


def _send(
    request: Request, file: PanelFile, cache_control: str, extra: dict[str, str] | None = None
) -> Response:
    headers = {"Cache-Control": cache_control, "ETag": file.etag, "Vary": "Accept-Encoding"}
    headers.update(extra or {})
    if request.headers.get("if-none-match") == file.etag:
        return Response(status_code=304, headers=headers)
    body = file.body
    if file.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        body = file.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=file.media_type, headers=headers)


def _not_found() -> Response:
    return Response("Not Found", status_code=404, media_type="text/plain")


def panel_routes(directory: Path = PANEL_DIR) -> list[BaseRoute]:
    """Routes for `/`, `/assets/...` and the root files; mount them last in the admin app."""
    panel = cache(lambda: load_panel(directory))

    async def index(request: Request) -> Response:
        extra = {
            "Content-Security-Policy": panel().csp,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        }
        return _send(request, panel().index, NO_CACHE, extra)

    async def asset(request: Request) -> Response:
        current = panel()
        path: str = request.path_params["path"]
        head, _, rest = path.partition("/")
        if head == current.version and rest in current.assets:
            return _send(request, current.assets[rest], IMMUTABLE)
        if head.startswith("v-") and rest in current.assets:
            # a page opened before an upgrade asks for its old version: serve today's, uncached
            return _send(request, current.assets[rest], NO_CACHE)
        if path in current.assets:
            # an unversioned URL (a hand-typed link, a dev server) must revalidate
            return _send(request, current.assets[path], NO_CACHE)
        return _not_found()

    async def root_file(request: Request) -> Response:
        file = panel().root.get(request.url.path.rsplit("/", 1)[-1])
        return _send(request, file, NO_CACHE) if file else _not_found()

    return [
        Route("/", index, methods=["GET", "HEAD"]),
        Route("/index.html", index, methods=["GET", "HEAD"]),
        Route("/assets/{path:path}", asset, methods=["GET", "HEAD"]),
        *(Route(f"/{name}", root_file, methods=["GET", "HEAD"]) for name in ROOT_FILES),
    ]


__all__ = ["IMMUTABLE", "NO_CACHE", "PANEL_DIR", "Panel", "load_panel", "panel_routes"]
