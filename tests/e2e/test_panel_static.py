"""The panel's files and how they are served: caching, compression, versioned URLs, vendored
libraries, the three languages and the first-load budget (no browser needed)."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from octopus.web.panel_routes import IMMUTABLE, NO_CACHE, PANEL_DIR, load_panel, panel_routes

ASSETS = PANEL_DIR / "assets"
APP = ASSETS / "app"
LANGS = ("en", "zh-Hans", "zh-Hant")
IMPORT = re.compile(r"""(?:import|from)\s*\(?\s*['"](\.{1,2}/[^'"]+)['"]""")
BARE_IMPORT = re.compile(
    r"""(?:^|\s)(?:import|from)\s*\(?\s*['"]([a-z][^'"./]*(?:/[^'"]+)?)['"]""", re.M
)


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(Starlette(routes=panel_routes()))


def test_index_is_never_cached_and_points_at_versioned_assets(client: TestClient) -> None:
    res = client.get("/")
    assert res.status_code == 200
    assert res.headers["cache-control"] == NO_CACHE
    assert res.headers["content-type"].startswith("text/html")
    version = load_panel().version
    assert f'src="./assets/{version}/app/main.js"' in res.text
    assert f'"preact":"./assets/{version}/vendor/' in res.text
    # every URL in the page is relative, so the panel works under a sub-path
    assert not re.search(r"""(?:src|href)="/""", res.text)
    assert "script-src 'self' 'sha256-" in res.headers["content-security-policy"]


def test_versioned_asset_is_immutable_and_unversioned_revalidates(client: TestClient) -> None:
    version = load_panel().version
    res = client.get(f"/assets/{version}/app/main.js")
    assert res.status_code == 200
    assert res.headers["cache-control"] == IMMUTABLE
    assert res.headers["content-type"].startswith("text/javascript")
    assert res.text == (APP / "main.js").read_text()
    plain = client.get("/assets/app/main.js")
    assert plain.headers["cache-control"] == NO_CACHE
    assert client.get("/assets/v-000000000000/app/main.js").headers["cache-control"] == NO_CACHE
    assert client.get(f"/assets/{version}/app/nope.js").status_code == 404
    assert client.get(f"/assets/{version}/../panel_routes.py").status_code == 404


def test_gzip_and_etag(client: TestClient) -> None:
    version = load_panel().version
    url = f"/assets/{version}/vendor/uplot-1.6.32/uPlot.esm.js"
    res = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert res.headers["content-encoding"] == "gzip"
    assert int(res.headers["content-length"]) < 60_000  # 145 KB of source on the wire
    again = client.get(url, headers={"If-None-Match": res.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/", headers={"If-None-Match": '"other"'}).status_code == 200


def test_version_changes_when_an_asset_changes(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "a.js").write_text("1")
    (tmp_path / "index.html").write_text('<script type="module" src="./assets/a.js"></script>')
    first = load_panel(tmp_path).version
    (tmp_path / "assets" / "a.js").write_text("2")
    assert load_panel(tmp_path).version != first


def test_served_under_a_sub_path() -> None:
    client = TestClient(Starlette(routes=[Mount("/octopus", routes=panel_routes())]))
    page = client.get("/octopus/")
    assert page.status_code == 200
    src = re.search(r'src="\./(assets/[^"]+)"', page.text)
    assert src is not None
    assert client.get("/octopus/" + src.group(1)).status_code == 200
    assert client.get("/octopus/favicon.svg").status_code == 200
    assert client.get("/octopus/manifest.webmanifest").status_code == 200


def test_vendored_files_match_the_manifest_and_carry_licences() -> None:
    manifest = json.loads((ASSETS / "vendor" / "manifest.json").read_text())
    names = {p["name"] for p in manifest["packages"]}
    assert {"preact", "htm", "uplot"} <= names
    for package in manifest["packages"]:
        folder = ASSETS / "vendor" / f"{package['name']}-{package['version']}"
        assert (folder / "LICENSE").stat().st_size > 500
        for file in package["files"]:
            data = (ASSETS / "vendor" / file["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == file["sha256"], file["path"]


def _modules() -> dict[Path, str]:
    return {p: p.read_text() for p in APP.rglob("*.js")}


def test_every_relative_import_resolves_and_bare_ones_are_in_the_import_map() -> None:
    index = (PANEL_DIR / "index.html").read_text()
    found = re.search(r'<script type="importmap">(.*?)</script>', index, re.S)
    assert found is not None
    import_map = json.loads(found[1])
    for path, source in _modules().items():
        for target in IMPORT.findall(source):
            assert (path.parent / target).resolve().is_file(), f"{path.name} imports {target}"
        for bare in BARE_IMPORT.findall(source):
            assert bare in import_map["imports"], f"{path.name} imports {bare}"
    for url in import_map["imports"].values():
        assert (PANEL_DIR / url).is_file(), url


def test_no_unused_imports() -> None:
    named = re.compile(r"^import\s*\{([^}]*)\}\s*from[^;]*;", re.M)
    for path, source in _modules().items():
        for match in named.finditer(source):
            rest = source[: match.start()] + source[match.end() :]
            for raw in match.group(1).split(","):
                name = raw.strip().split(" as ")[-1]
                if name:
                    assert re.search(rf"\b{re.escape(name)}\b", rest), f"{path.name}: {name}"


def _used_keys() -> set[str]:
    catalogue = json.loads((ASSETS / "i18n" / "en.json").read_text())
    spaces = "|".join(sorted({k.split(".")[0] for k in catalogue}))
    literal = re.compile(rf"""['"]((?:{spaces})\.[A-Za-z0-9_.]+)['"]""")
    prefs = re.compile(r"""usePref\(\s*['"]([^'"]+)['"]""")
    used: set[str] = set()
    for source in _modules().values():
        used |= set(literal.findall(source)) - set(prefs.findall(source))
    return {k for k in used if not k.endswith(".")}


def test_three_languages_have_the_same_keys_and_cover_every_string() -> None:
    catalogues = {
        lang: json.loads((ASSETS / "i18n" / f"{lang}.json").read_text()) for lang in LANGS
    }
    keys = set(catalogues["en"])
    for lang, messages in catalogues.items():
        assert set(messages) == keys, lang
        assert all(isinstance(v, str) and v.strip() for v in messages.values()), lang
    missing = _used_keys() - keys
    assert not missing
    # the Chinese catalogues are translations, not copies
    same = [k for k in keys if catalogues["zh-Hans"][k] == catalogues["en"][k]]
    assert len(same) < len(keys) // 20, same
    assert catalogues["zh-Hans"]["nav.logs"] != catalogues["zh-Hant"]["nav.logs"]


def _static_graph(entry: Path) -> set[Path]:
    """Modules loaded before first paint: static imports only (pages other than the
    dashboard are imported dynamically)."""
    static = re.compile(r"""^import\s[^;]*?from\s*['"](\.{1,2}/[^'"]+)['"]""", re.M)
    seen: set[Path] = set()
    todo = [entry]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo += [(path.parent / t).resolve() for t in static.findall(path.read_text())]
    return seen


def test_dashboard_first_load_is_under_300_kb_gzipped() -> None:
    files = _static_graph((APP / "main.js").resolve())
    files |= {PANEL_DIR / "index.html", PANEL_DIR / "favicon.svg", ASSETS / "css" / "app.css"}
    files |= {ASSETS / "i18n" / "en.json"}
    files |= set((ASSETS / "vendor").rglob("*.mjs")) | set((ASSETS / "vendor").rglob("uPlot.*"))
    assert APP / "pages" / "channels.js" not in files
    total = sum(len(gzip.compress(f.read_bytes(), 9)) for f in files)
    assert total < 300_000, total
