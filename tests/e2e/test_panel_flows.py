"""The user's guide, walked through in real Chromium against `octopus start`: log in and change
the password, add a channel whose models come from the (fake) upstream, build a group with auto
add and every mode, create an API key, watch OpenAI SDK requests arrive live on the Logs page
and in the dashboard, edit a price, export and import a backup. Desktop in English, and a
390x844 phone in Chinese."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from octopus.protocols import WireFormat
from tests.e2e.conftest import (
    DESKTOP_EN,
    PHONE_ZH,
    Console,
    ThreadedServer,
    Variant,
    messages,
    open_page,
    screenshot_dir,
)
from tests.fakes.upstream import FakeUpstream
from tests.harness import Process, octopus_process

pytestmark = pytest.mark.e2e
FIRST_PASSWORD = "first-horse-41"
NEW_PASSWORD = "correct-horse-42"
UPSTREAM_MODELS = ["gpt-4o", "gpt-4o-mini", "o3-mini", "claude-3-5-haiku"]
MODES = ("round_robin", "random", "weighted", "manual", "failover")


MODELS_DEV = {
    "openai": {
        "id": "openai",
        "models": {
            "gpt-4o": {
                "id": "gpt-4o",
                "family": "gpt",
                "modalities": {"input": ["text"], "output": ["text"]},
                "cost": {"input": 2.5, "output": 10, "cache_read": 1.25},
            }
        },
    }
}


class ModelsDev:
    """A stand-in for models.dev's api.json that counts its downloads."""

    def __init__(self) -> None:
        self.hits = 0
        self.server = ThreadedServer(Starlette(routes=[Route("/api.json", self.serve)]))

    async def serve(self, request: Request) -> JSONResponse:
        self.hits += 1
        return JSONResponse(MODELS_DEV)


@pytest.fixture(scope="module")
def models_dev() -> Iterator[ModelsDev]:
    fake = ModelsDev()
    with fake.server:
        yield fake


@pytest.fixture
def gateway(tmp_path: Path, models_dev: ModelsDev) -> Iterator[Process]:
    env = {
        "OCTOPUS_PRICES_MODELS_DEV_URL": models_dev.server.url + "/api.json",
        "OCTOPUS_ADMIN_PASSWORD": "",  # a true first start: admin/admin, changed at first login
    }
    with octopus_process(tmp_path, env=env) as process:
        yield process


@dataclass
class Panel:
    page: Page
    console: Console
    m: dict[str, str]
    phone: bool
    shots: Path | None
    suffix: str

    def nav(self, name: str) -> None:
        bar = self.page.locator(".bottom-nav" if self.phone else ".sidebar")
        bar.get_by_role("link", name=self.m[f"nav.{name}"]).click()
        expect(self.page.get_by_role("heading", level=1)).to_have_text(self.m[f"nav.{name}"])

    def button(self, key: str, scope: Locator | Page | None = None) -> Locator:
        return (scope or self.page).get_by_role("button", name=self.m[key], exact=True)

    def dialog(self) -> Locator:
        return self.page.get_by_role("dialog")

    def shot(self, name: str) -> None:
        if self.shots is not None:
            self.shots.mkdir(parents=True, exist_ok=True)
            expect(self.page.locator(".toast")).to_have_count(0, timeout=10_000)
            self.page.wait_for_timeout(400)  # let charts and fades settle
            self.page.screenshot(path=self.shots / f"{name}-{self.suffix}.png", full_page=False)


def login(panel: Panel, password: str, *, keyboard: bool = False) -> None:
    page = panel.page
    page.get_by_label(panel.m["auth.username"], exact=True).fill("admin")
    if keyboard:  # focus moves from the username to the password; Enter submits
        page.keyboard.press("Tab")
        page.keyboard.type(password)
        page.keyboard.press("Enter")
        return
    page.get_by_label(panel.m["auth.password"], exact=True).fill(password)
    panel.button("auth.login").click()


def first_password(panel: Panel) -> None:
    """admin/admin opens on the change-password screen; the new password logs straight in."""
    page = panel.page
    expect(page.get_by_role("heading", level=1)).to_have_text(panel.m["first.title"])
    form = page.get_by_role("form", name=panel.m["settings.changePassword"])
    form.get_by_label(panel.m["settings.oldPassword"], exact=True).fill("admin")
    form.get_by_label(panel.m["settings.newPassword"], exact=True).fill("admin")
    form.get_by_label(panel.m["settings.confirmPassword"], exact=True).fill("admin")
    panel.button("first.submit", form).click()
    expect(form.get_by_text(panel.m["settings.passwordShort"].replace("{n}", "8"))).to_be_visible()
    form.get_by_label(panel.m["settings.newPassword"], exact=True).fill(FIRST_PASSWORD)
    form.get_by_label(panel.m["settings.confirmPassword"], exact=True).fill(FIRST_PASSWORD)
    panel.button("first.submit", form).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(panel.m["nav.dashboard"])


def change_password(panel: Panel) -> None:
    panel.nav("settings")
    form = panel.page.get_by_role("form", name=panel.m["settings.changePassword"])
    form.get_by_label(panel.m["settings.oldPassword"], exact=True).fill(FIRST_PASSWORD)
    form.get_by_label(panel.m["settings.newPassword"], exact=True).fill(NEW_PASSWORD)
    form.get_by_label(panel.m["settings.confirmPassword"], exact=True).fill(NEW_PASSWORD)
    panel.button("settings.changePassword", form).click()
    expect(panel.page.get_by_text(panel.m["settings.passwordChanged"])).to_be_visible()
    # log out, the old password no longer works, the new one does
    logout = panel.page.get_by_role("button", name=panel.m["auth.logout"]).locator("visible=true")
    logout.first.click()
    login(panel, FIRST_PASSWORD)
    expect(panel.page.get_by_role("alert")).to_contain_text(panel.m["auth.badCredentials"])
    login(panel, NEW_PASSWORD, keyboard=True)
    # back where the user was
    expect(panel.page.get_by_role("heading", level=1)).to_have_text(panel.m["nav.settings"])


def create_channel(panel: Panel, upstream: FakeUpstream, tag: str) -> None:
    upstream.models[tag] = UPSTREAM_MODELS
    panel.nav("channels")
    expect(panel.page.get_by_text(panel.m["channels.emptyTitle"])).to_be_visible()
    panel.shot("channels-empty")
    panel.button("channels.create").first.click()
    dialog = panel.dialog()
    dialog.get_by_label(panel.m["channels.name"], exact=True).fill("fake-openai")
    base = upstream.base(tag, WireFormat.OPENAI_CHAT)
    dialog.get_by_label(panel.m["channels.baseUrl"], exact=True).fill(base)
    expect(dialog.get_by_text(base + "/chat/completions")).to_be_visible()
    dialog.get_by_label(panel.m["channels.keyN"].replace("{n}", "1"), exact=True).fill("sk-up-e2e")
    panel.button("channels.fetchModels", dialog).click()
    picker = dialog.get_by_role("group", name=panel.m["channels.fetchedList"])
    for name in UPSTREAM_MODELS:
        expect(picker.get_by_text(name, exact=True)).to_be_visible()
    panel.button("channels.selectShown", dialog).click()
    expect(dialog.get_by_text(panel.m["channels.selected"].replace("{n}", "4"))).to_be_visible()
    dialog.get_by_role("switch", name=panel.m["channels.autoSync"]).check()
    panel.shot("channel-form")
    panel.button("common.create", dialog).click()
    expect(dialog).to_be_hidden()
    card = panel.page.get_by_role("article", name="fake-openai")
    expect(card).to_contain_text(panel.m["channels.modelCount"].replace("{n}", "4"))
    # the fetch really asked the fake upstream, with the key typed in the form
    calls = [c for c in upstream.calls(tag) if c.path.endswith("/models")]
    assert calls
    assert calls[-1].headers["authorization"] == "Bearer sk-up-e2e"


def create_group(panel: Panel, gateway: Process, cookies: dict[str, str]) -> None:
    panel.nav("groups")
    panel.button("groups.create").first.click()
    dialog = panel.dialog()
    dialog.get_by_label(panel.m["groups.name"], exact=True).fill("gpt-4o")
    panel.button("groups.autoAdd", dialog).click()
    members = dialog.get_by_role("list", name=panel.m["groups.members"])
    expect(members.get_by_role("listitem")).to_have_count(2)  # gpt-4o and gpt-4o-mini
    panel.shot("group-form")
    panel.button("common.create", dialog).click()
    expect(dialog).to_be_hidden()
    card = panel.page.get_by_role("article", name="gpt-4o")
    expect(card).to_contain_text(panel.m["groups.memberCount"].replace("{n}", "2"))
    for mode in MODES:
        panel.button("common.edit", card).click()
        dialog.get_by_label(panel.m["groups.modeLabel"], exact=True).select_option(mode)
        expect(dialog.get_by_text(panel.m[f"groups.modeHint.{mode}"])).to_be_visible()
        panel.button("common.save", dialog).click()
        expect(dialog).to_be_hidden()
        expect(card).to_contain_text(panel.m[f"groups.mode.{mode}"])
        saved = api_get(gateway, cookies, "group/list")
        assert [g["mode"] for g in saved if g["name"] == "gpt-4o"] == [mode]


def create_api_key(panel: Panel) -> str:
    panel.nav("settings")
    panel.shot("settings")
    panel.button("keys.create").first.click()
    dialog = panel.dialog()
    dialog.get_by_label(panel.m["keys.name"], exact=True).fill("e2e-key")
    dialog.get_by_label(panel.m["keys.maxRpm"], exact=True).fill("600")
    panel.button("common.create", dialog).click()
    secret = panel.page.get_by_test_id("new-api-key")
    expect(secret).to_contain_text("sk-")
    key = secret.inner_text().strip()
    panel.button("keys.copiedDone").click()
    expect(panel.page.get_by_text("e2e-key", exact=True)).to_be_visible()
    return key


def keep_bodies(panel: Panel, gateway: Process, cookies: dict[str, str]) -> None:
    """System settings: keep every request's bodies, so the Logs page can show them."""
    system = panel.page.get_by_role("region", name=panel.m["settings.system"])
    label = panel.m["settings.key.log_body_mode"]
    system.get_by_label(label, exact=True).select_option("all")
    panel.button("settings.saveSystem", system).click()
    # saved: nothing left to save, and the server has the new value
    expect(panel.button("settings.saveSystem", system)).to_be_disabled()
    saved = {s["key"]: s["value"] for s in api_get(gateway, cookies, "setting/list")}
    assert saved["log_body_mode"] == "all"


def send_requests(gateway: Process, key: str) -> None:
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    reply = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hello"}]
    )
    assert reply.choices[0].message.content
    stream = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "stream please"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    client.close()


def watch_logs(panel: Panel, gateway: Process, key: str) -> None:
    panel.nav("logs")
    panel.button("logs.liveTab").click()
    # the stream is connected before the requests go out
    expect(panel.page.locator(".badge.ok", has_text=panel.m["logs.live"])).to_be_visible()
    send_requests(gateway, key)  # while the page is open: rows must arrive without a reload
    rows = panel.page.locator("[data-status=success]")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("gpt-4o")
    # one process without Redis: the list is complete, no warning about missing processes
    expect(panel.page.locator(".badge.warn")).to_have_count(0)
    panel.shot("logs")
    rows.first.click()
    dialog = panel.dialog()
    expect(dialog.get_by_text(panel.m["logs.attemptN"].replace("{n}", "1"))).to_be_visible()
    expect(dialog).to_contain_text("fake-openai")
    panel.shot("log-detail")
    panel.page.keyboard.press("Escape")
    panel.button("logs.historyTab").click()
    stored = panel.page.locator("[data-status=success]")
    deadline = time.monotonic() + 20
    while stored.count() < 2 and time.monotonic() < deadline:  # written a moment after
        panel.page.wait_for_timeout(500)
        panel.button("logs.refresh").click()
    expect(stored).to_have_count(2)
    stored.last.click()  # the oldest: the non-streaming "hello"
    body = panel.page.get_by_role("region", name=panel.m["logs.requestBody"])
    body.get_by_role(
        "button", name=panel.m["logs.load"] + " " + panel.m["logs.requestBody"]
    ).click()
    expect(body.locator("pre")).to_contain_text('"hello"')
    panel.page.keyboard.press("Escape")


def check_dashboard(panel: Panel) -> None:
    requests = panel.page.locator(".stat").first.locator(".stat-value")
    deadline = time.monotonic() + 20
    while True:
        panel.nav("channels")  # leaving and coming back refetches the totals
        panel.nav("dashboard")
        value = requests.inner_text(timeout=10_000)
        if value.strip() == "2" or time.monotonic() > deadline:
            break
        panel.page.wait_for_timeout(1000)
    assert value.strip() == "2"
    rank = panel.page.locator(".rank-row").first
    expect(rank).to_contain_text("fake-openai")
    expect(rank).to_contain_text("100%")
    panel.shot("dashboard")


def edit_price(panel: Panel, gateway: Process, cookies: dict[str, str]) -> None:
    panel.nav("models")
    panel.page.get_by_role("searchbox").fill("gpt-4o-mini")
    row = panel.page.get_by_role("row").filter(has_text="gpt-4o-mini")
    expect(row).to_have_count(1)
    row.get_by_role("button", name=panel.m["common.edit"] + " gpt-4o-mini").click()
    price = panel.page.get_by_label(panel.m["models.input"] + " gpt-4o-mini", exact=True)
    price.fill("1.25")
    panel.button("common.save", panel.page.get_by_role("table")).click()
    expect(row).to_contain_text("$1.25")
    saved = [p for p in api_get(gateway, cookies, "model/list") if p["name"] == "gpt-4o-mini"]
    assert saved[0]["input"] == 1.25
    panel.page.get_by_role("searchbox").fill("")
    panel.shot("models")


def refresh_prices(panel: Panel, models_dev: ModelsDev) -> None:
    panel.nav("models")
    before = models_dev.hits
    panel.button("models.refresh").click()
    expect(panel.page.get_by_text(panel.m["models.refreshed"])).to_be_visible()
    assert models_dev.hits == before + 1


def sync_channels(panel: Panel, upstream: FakeUpstream, tag: str) -> None:
    panel.nav("channels")
    card = panel.page.get_by_role("article", name="fake-openai")
    expect(card).to_contain_text(panel.m["channels.autoSync"])  # switched on at creation
    before = [c for c in upstream.calls(tag) if c.path.endswith("/models")]
    panel.button("channels.syncNow").click()
    expect(panel.page.get_by_text(panel.m["channels.synced"])).to_be_visible()
    after = [c for c in upstream.calls(tag) if c.path.endswith("/models")]
    assert len(after) == len(before) + 1  # the auto-sync channel was asked once, now
    assert after[-1].headers["authorization"] == "Bearer sk-up-e2e"


def key_view(browser: Browser, gateway: Process, key: str, variant: Variant) -> None:
    """Someone with only the API key sees that key's usage, read-only."""
    m = messages(variant.lang)
    page, console = open_page(browser, viewport=variant.viewport, locale=variant.locale)
    page.goto(gateway.url + "/")
    page.get_by_role("button", name=m["auth.apiKey"], exact=True).click()
    page.get_by_role("textbox", name=m["auth.apiKey"], exact=True).fill(key)
    page.get_by_role("button", name=m["auth.viewUsage"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("e2e-key")
    expect(page.locator(".stat-value").first).to_have_text("2")
    expect(page.get_by_text(m["keys.maxRpm"])).to_be_visible()
    expect(page.locator(".sidebar")).to_have_count(0)  # no admin navigation
    assert console.errors == []
    page.context.close()


def backup_round_trip(panel: Panel, tmp: Path) -> None:
    panel.nav("settings")
    panel.page.get_by_role("switch", name=panel.m["settings.includeStats"]).check()
    with panel.page.expect_download() as info:
        panel.button("settings.export").click()
    path = tmp / info.value.suggested_filename
    info.value.save_as(path)
    dump = json.loads(path.read_text())
    assert [c["name"] for c in dump["channels"]] == ["fake-openai"]
    panel.page.get_by_label(panel.m["settings.import"], exact=True).set_input_files(path)
    report = panel.page.get_by_test_id("import-report")
    expect(report).to_be_visible()
    # the same database already holds everything: the channel is skipped, nothing added
    expect(_report_value(report, 0, "channels")).to_have_text("0")
    expect(_report_value(report, 1, "channels")).to_have_text("1")
    expect(_report_value(report, 1, "api_keys")).to_have_text("1")


def _report_value(report: Locator, section: int, name: str) -> Locator:
    """The number next to `name` in the import report's section (0 imported, 1 skipped)."""
    label = report.page.get_by_text(name, exact=True)
    return report.locator(".kv").nth(section).locator("div").filter(has=label).locator("b")


def api_get(gateway: Process, cookies: dict[str, str], path: str) -> list[dict[str, object]]:
    res = httpx.get(f"{gateway.url}/api/v1/{path}", cookies=cookies, timeout=10)
    res.raise_for_status()
    data: list[dict[str, object]] = res.json()["data"]
    return data


@pytest.mark.parametrize("variant", [DESKTOP_EN, PHONE_ZH], ids=["desktop-en", "phone-zh"])
def test_the_guide_end_to_end(
    browser: Browser,
    gateway: Process,
    upstream: FakeUpstream,
    models_dev: ModelsDev,
    tmp_path: Path,
    variant: Variant,
) -> None:
    page, console = open_page(browser, viewport=variant.viewport, locale=variant.locale)
    panel = Panel(
        page, console, messages(variant.lang), variant.phone, screenshot_dir(), variant.suffix
    )
    page.goto(gateway.url + "/")
    expect(page.get_by_role("button", name=panel.m["auth.login"])).to_be_visible()
    panel.shot("login")
    login(panel, "admin")
    first_password(panel)
    change_password(panel)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    create_channel(panel, upstream, f"e2e{variant.suffix}")
    create_group(panel, gateway, cookies)
    key = create_api_key(panel)
    keep_bodies(panel, gateway, cookies)
    watch_logs(panel, gateway, key)
    check_dashboard(panel)
    edit_price(panel, gateway, cookies)
    refresh_prices(panel, models_dev)
    sync_channels(panel, upstream, f"e2e{variant.suffix}")
    panel.shot("channels")
    panel.nav("groups")
    expect(page.get_by_text(panel.m["groups.inUse"])).to_be_visible()  # live runtime badge
    panel.shot("groups")
    panel.button("groups.reset").click()
    expect(page.get_by_text(panel.m["groups.resetDone"])).to_be_visible()
    backup_round_trip(panel, tmp_path)
    assert console.errors == []
    page.context.close()
    assert re.fullmatch(r"sk-[\w-]+", key)
    key_view(browser, gateway, key, variant)
