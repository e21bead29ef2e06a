"""docs/admin-api.md lists exactly the routes the app serves, so the docs cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Route

from tests.harness import serve, sqlite_settings

DOC = Path(__file__).resolve().parents[1] / "docs" / "admin-api.md"


async def _served(tmp_path: Path) -> set[str]:
    async with serve(sqlite_settings(tmp_path)) as gateway:
        admin = gateway.app.admin
    assert isinstance(admin, Starlette)
    return {
        f"{method} {route.path}"
        for route in admin.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }


def _documented() -> set[str]:
    return set(re.findall(r"^\| `((?:GET|POST|DELETE|PUT) [^`]+)`", DOC.read_text(), re.M))


async def test_every_route_is_documented_and_nothing_else(tmp_path: Path) -> None:
    served, documented = await _served(tmp_path), _documented()
    assert served - documented == set(), "routes missing from docs/admin-api.md"
    assert documented - served == set(), "docs/admin-api.md lists routes the app does not serve"
