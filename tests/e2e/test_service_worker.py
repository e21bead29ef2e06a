"""The panel's service worker in real Chromium: registered at the panel root, it caches the shell,
and the panel still opens when the server is unreachable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.e2e.conftest import DESKTOP, ThreadedServer, open_page
from tests.e2e.panel_stub import app as stub_app  # the real panel routes, a canned API

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stub() -> Iterator[ThreadedServer]:
    with ThreadedServer(stub_app) as server:
        yield server


def test_shell_is_cached_and_opens_offline(browser: Browser, stub: ThreadedServer) -> None:
    page, console = open_page(browser, viewport=DESKTOP, locale="en-US")
    page.goto(stub.url + "/")
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == stub.url + "/"
    cached = page.evaluate(
        "caches.open('octopus-shell-v1').then((c) => c.keys()).then((ks) => ks.map((r) => r.url))"
    )
    assert stub.url + "/" in cached
    assert stub.url + "/manifest.webmanifest" in cached
    page.reload()  # now controlled by the worker
    page.context.set_offline(True)
    page.goto(stub.url + "/")
    assert "Octopus" in page.title()
    page.context.set_offline(False)
    # offline, only the admin API calls fail (the shell itself came from the cache)
    assert all("/api/v1/" in e or "net::" in e for e in console.errors), console.errors
