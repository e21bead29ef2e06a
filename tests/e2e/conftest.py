"""Fixtures for the panel's end-to-end tests: Debian's Chromium driven by Playwright, the real
gateway as a process, the fake upstream in a background thread, and console-error capture."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)

from octopus.web.panel_routes import PANEL_DIR
from tests.conftest import bound_port
from tests.fakes.upstream import FakeUpstream

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1366, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
# the browser reports every non-2xx fetch on the console; a 401 is how the API says "logged out"
EXPECTED_NETWORK = "the server responded with a status of 401"


def messages(lang: str) -> dict[str, str]:
    """The panel's own catalogue, so the tests find controls by the text a user sees."""
    data: dict[str, str] = json.loads((PANEL_DIR / "assets" / "i18n" / f"{lang}.json").read_text())
    return data


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail("Debian's chromium is not installed (run scripts/browser.sh)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class Console:
    """Console errors, failed requests and uncaught exceptions seen by one page."""

    errors: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and EXPECTED_NETWORK not in message.text:
            self.errors.append(f"console: {message.text} @ {message.location.get('url')}")

    def on_error(self, error: Exception) -> None:
        self.errors.append(f"uncaught: {error}")


def open_page(browser: Browser, *, viewport: ViewportSize, locale: str) -> tuple[Page, Console]:
    context = browser.new_context(viewport=viewport, locale=locale, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    console = Console()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_error)
    return page, console


class ThreadedUpstream:
    """The shared FakeUpstream (an aiohttp server) running on its own loop in a thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> FakeUpstream:
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(FakeUpstream().start(), self.loop)
        self.fake = future.result(timeout=10)
        return self.fake

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="session")
def upstream() -> Iterator[FakeUpstream]:
    with ThreadedUpstream() as fake:
        yield fake


class ThreadedServer:
    """Any ASGI app under uvicorn on a free loopback port, in a background thread."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{bound_port(self.server)}"

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                return self
            threading.Event().wait(0.01)
        raise RuntimeError("server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass(frozen=True)
class Variant:
    """One way a person meets the panel: screen size and browser language."""

    viewport: ViewportSize
    locale: str
    lang: str  # the panel catalogue the browser language selects
    suffix: str  # for screenshot file names

    @property
    def phone(self) -> bool:
        return self.viewport["width"] < 768


DESKTOP_EN = Variant(DESKTOP, "en-US", "en", "desktop")
PHONE_ZH = Variant(PHONE, "zh-CN", "zh-Hans", "mobile")


def screenshot_dir() -> Path | None:
    """Set OCTOPUS_SCREENSHOTS to a folder to save a PNG of every page while the tests run."""
    raw = os.environ.get("OCTOPUS_SCREENSHOTS", "")
    return Path(raw) if raw else None
