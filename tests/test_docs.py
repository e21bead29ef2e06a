"""docs/admin-api.md lists exactly the routes the app serves, so the docs cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.routing import Route

from octopus.app import create_app
from octopus.settings import Settings

DOC = Path(__file__).resolve().parents[1] / "docs" / "admin-api.md"


def _served() -> set[str]:
    app = create_app(Settings())
    return {
        f"{method} {route.path}"
        for route in app.admin.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }


def _documented() -> set[str]:
    return set(re.findall(r"^\| `((?:GET|POST|DELETE|PUT) [^`]+)`", DOC.read_text(), re.M))


def test_every_route_is_documented_and_nothing_else() -> None:
    served, documented = _served(), _documented()
    assert served - documented == set(), "routes missing from docs/admin-api.md"
    assert documented - served == set(), "docs/admin-api.md lists routes the app does not serve"
