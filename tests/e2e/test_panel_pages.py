"""Every page renders without console errors, on a desktop and on a phone, in all three
languages, against a canned admin API (so the panel is checked apart from the backend)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ViewportSize, expect

from tests.e2e.conftest import DESKTOP, PHONE, ThreadedServer, messages, open_page
from tests.e2e.panel_stub import app, mounted

pytestmark = pytest.mark.e2e
PAGES = ("dashboard", "channels", "groups", "models", "logs", "settings")


@pytest.fixture(scope="module")
def stub() -> Iterator[ThreadedServer]:
    with ThreadedServer(app) as server:
        yield server


@pytest.mark.parametrize(
    ("viewport", "locale", "lang"),
    [(DESKTOP, "en-US", "en"), (PHONE, "zh-CN", "zh-Hans"), (DESKTOP, "zh-TW", "zh-Hant")],
    ids=["desktop-en", "phone-zh-hans", "desktop-zh-hant"],
)
def test_every_page_renders_in_the_browser_language(
    browser: Browser, stub: ThreadedServer, viewport: ViewportSize, locale: str, lang: str
) -> None:
    m = messages(lang)
    page, console = open_page(browser, viewport=viewport, locale=locale)
    page.goto(stub.url + "/")
    nav = page.locator(".bottom-nav" if viewport is PHONE else ".sidebar")
    expect(nav).to_be_visible()
    expect(page.locator(".sidebar" if viewport is PHONE else ".bottom-nav")).to_be_hidden()
    for name in PAGES:
        nav.get_by_role("link", name=m[f"nav.{name}"]).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(m[f"nav.{name}"])
        expect(page.locator(".skeleton")).to_have_count(0)
        # nothing wider than the screen: no sideways scrolling on a phone
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], (name, width)
    # the canned data shows up where it belongs
    nav.get_by_role("link", name=m["nav.groups"]).click()
    expect(page.get_by_text(m["groups.inUse"])).to_be_visible()
    expect(page.locator("html")).to_have_attribute(
        "lang", {"en": "en", "zh-Hans": "zh-CN", "zh-Hant": "zh-TW"}[lang]
    )
    assert console.errors == []
    page.context.close()


def test_the_live_log_says_when_some_processes_did_not_answer(
    browser: Browser, stub: ThreadedServer
) -> None:
    m = messages("en")
    page, console = open_page(browser, viewport=DESKTOP, locale="en-US")
    page.goto(stub.url + "/#/logs")
    page.get_by_role("button", name=m["logs.liveTab"]).click()
    warning = page.locator(".badge.warn", has_text=m["logs.scopePartial"])
    expect(warning).to_be_visible()
    expect(warning).to_have_attribute("title", m["logs.scopePartialHint"])
    expect(page.get_by_text("gpt-4o").first).to_be_visible()  # the records still arrive
    assert console.errors == []
    page.context.close()


def test_theme_and_language_switch_and_persist(browser: Browser, stub: ThreadedServer) -> None:
    page, console = open_page(browser, viewport=DESKTOP, locale="en-US")
    page.emulate_media(color_scheme="light")
    page.goto(stub.url + "/#/settings")
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "light")
    page.get_by_role("group", name="Theme").get_by_role("button", name="Dark").click()
    expect(html).to_have_attribute("data-theme", "dark")
    page.get_by_role("group", name="Language").get_by_role("button", name="繁體中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(messages("zh-Hant")["nav.settings"])
    page.reload()
    expect(html).to_have_attribute("data-theme", "dark")
    expect(page.get_by_role("heading", level=1)).to_have_text(messages("zh-Hant")["nav.settings"])
    assert console.errors == []
    page.context.close()


def test_forms_explain_errors_next_to_the_field(browser: Browser, stub: ThreadedServer) -> None:
    page, console = open_page(browser, viewport=DESKTOP, locale="en-US")
    page.goto(stub.url + "/#/channels")
    page.get_by_role("button", name="New channel").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Base URL", exact=True).fill("not a url")
    dialog.get_by_text("Advanced").click()
    dialog.get_by_label("Parameter override (JSON)").fill('{"temperature": ')
    dialog.get_by_role("button", name="Create").click()
    expect(dialog.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_label("Base URL", exact=True)).to_have_attribute("aria-invalid", "true")
    override = dialog.get_by_label("Parameter override (JSON)")
    expect(override).to_have_attribute("aria-invalid", "true")
    expect(override).to_have_accessible_description(re.compile("Not valid JSON"))
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert console.errors == []
    page.context.close()


def test_first_dashboard_load_transfers_under_300_kb(
    browser: Browser, stub: ThreadedServer
) -> None:
    page, console = open_page(browser, viewport=DESKTOP, locale="en-US")
    page.goto(stub.url + "/")
    expect(page.locator(".chart canvas")).to_be_visible()
    sizes = page.evaluate(
        """() => performance.getEntriesByType('navigation').concat(
             performance.getEntriesByType('resource')).map((e) => e.transferSize)"""
    )
    assert 0 < sum(sizes) < 300_000, sizes
    assert console.errors == []
    page.context.close()


def test_works_under_a_sub_path(browser: Browser) -> None:
    with ThreadedServer(mounted) as server:
        page, console = open_page(browser, viewport=DESKTOP, locale="en-US")
        # a proxy that forwards /octopus without the slash: the page adds it, assets resolve
        page.goto(server.url + "/octopus#/channels")
        expect(page).to_have_url(server.url + "/octopus/#/channels")
        expect(page.get_by_role("article", name="OpenAI main")).to_be_visible()
        page.get_by_role("link", name="Dashboard").click()
        expect(page.locator(".stat-value").first).to_have_text("1,551")
        assert console.errors == []
        page.context.close()


def test_destructive_actions_ask_first(browser: Browser, stub: ThreadedServer) -> None:
    page, console = open_page(browser, viewport=DESKTOP, locale="en-US")
    page.goto(stub.url + "/#/channels")
    card = page.get_by_role("article", name="Claude relay")
    card.get_by_role("button", name="Details").click()
    page.get_by_role("dialog", name="Claude relay").get_by_role("button", name="Delete").click()
    confirm = page.get_by_role("dialog", name="Delete channel?")
    expect(confirm).to_contain_text('"Claude relay"')
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    expect(card).to_be_visible()
    page.get_by_role("dialog", name="Claude relay").get_by_role("button", name="Delete").click()
    confirm.get_by_role("button", name="Delete").click()
    expect(card).to_be_hidden()
    expect(page.get_by_role("article", name="OpenAI main")).to_be_visible()
    assert console.errors == []
    page.context.close()
