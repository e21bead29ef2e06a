"""Settings: validation, persistence and live application; CORS semantics over real HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from octopus.live_settings import LiveSettings
from octopus.records.bodies import BodyMode
from tests.admin.conftest import data, error, url_settings
from tests.harness import Gateway, admin_client, serve, sqlite_settings

DEFAULTS = {
    "proxy_url": "",
    "cors_allow_origins": "",
    "model_info_update_interval": "24",
    "sync_llm_interval": "24",
    "stats_save_interval": "10",
    "log_retention_days": "30",
    "log_body_retention_days": "7",
    "log_body_mode": "errors",
    "log_body_max_bytes": "65536",
    "metrics_enabled": "false",
    "metrics_token": "",
}


async def _set(client: httpx.AsyncClient, key: str, value: Any) -> httpx.Response:
    return await client.post("/api/v1/setting/set", json={"key": key, "value": value})


async def test_list_set_persist(db_url: Any, tmp_path: Path) -> None:
    settings = url_settings(db_url, tmp_path)
    async with serve(settings) as gateway:
        client = await admin_client(gateway)
        listed = data(await client.get("/api/v1/setting/list"))
        assert {i["key"]: i["value"] for i in listed} == DEFAULTS
        assert data(await _set(client, "log_retention_days", 90)) == {
            "key": "log_retention_days",
            "value": "90",
        }
        data(await _set(client, "metrics_enabled", True))
        data(await _set(client, "log_body_mode", "ALL"))
        data(await _set(client, "metrics_token", "tok-0123456789secret"))
        data(await _set(client, "cors_allow_origins", " https://a.com/ ,b.org,,"))
        live: LiveSettings = gateway.app.services.live_settings
        assert live.log_retention_days == 90
        assert live.metrics_enabled is True
        assert live.log_body_mode is BodyMode.ALL
        assert live.metrics_token == "tok-0123456789secret"
        assert live.cors_allow_origins == ("https://a.com", "b.org")
        await client.aclose()
    async with serve(settings) as gateway:
        client = await admin_client(gateway)
        values = {i["key"]: i["value"] for i in data(await client.get("/api/v1/setting/list"))}
        assert values["log_retention_days"] == "90"
        assert values["log_body_mode"] == "all"
        assert values["metrics_token"] == "tok-0…cret"  # never the whole token
        assert "tok-0123456789secret" not in str(values)
        # the masked value sent back (a form saved unchanged) keeps the token
        data(await _set(client, "metrics_token", "tok-0…cret"))
        assert gateway.app.services.live_settings.metrics_token == "tok-0123456789secret"
        await client.aclose()


BAD_SETTINGS: list[tuple[str, Any, str]] = [
    ("nope", "1", "setting not found"),
    ("proxy_url", "ftp://127.0.0.1:21", "proxy_url must use the scheme http, https or socks5"),
    ("proxy_url", "socks://127.0.0.1:1080", "proxy_url must use the scheme http, https or socks5"),
    ("proxy_url", "http://", "proxy_url must include a host"),
    ("proxy_url", "http://h:99999", "proxy_url has an invalid port"),
    ("sync_llm_interval", "1.5", "sync_llm_interval must be an integer"),
    ("sync_llm_interval", -1, "sync_llm_interval must be at least 0"),
    ("model_info_update_interval", "x", "model_info_update_interval must be an integer"),
    ("stats_save_interval", 0, "stats_save_interval must be at least 1"),
    ("log_retention_days", "ten", "log_retention_days must be an integer"),
    ("log_body_mode", "some", "log_body_mode must be one of off, errors, all"),
    ("log_body_max_bytes", 10**9, "log_body_max_bytes must be at least 0 and at most 67108864"),
    ("metrics_enabled", "maybe", "metrics_enabled must be true or false"),
    ("metrics_token", "two words", "metrics_token must be at most 256 characters without spaces"),
    ("cors_allow_origins", "ftp://a.com", "must look like https://a.com[:port]"),
    ("cors_allow_origins", "https://*.a.com", "is not an origin"),
    ("cors_allow_origins", ["a.com"], "value must be a string, a number or a boolean"),
]


@pytest.mark.parametrize(("key", "value", "message"), BAD_SETTINGS)
async def test_validation(
    gateway: Gateway, admin: httpx.AsyncClient, key: str, value: Any, message: str
) -> None:
    assert message in error(await _set(admin, key, value), 400)
    values = {i["key"]: i["value"] for i in data(await admin.get("/api/v1/setting/list"))}
    assert values == DEFAULTS


async def test_set_needs_key_and_value(admin: httpx.AsyncClient) -> None:
    assert "'value' is required" in error(
        await admin.post("/api/v1/setting/set", json={"key": "proxy_url"}), 400
    )
    assert "'key' is required" in error(
        await admin.post("/api/v1/setting/set", json={"value": "1"}), 400
    )


async def test_listeners_hear_changes() -> None:
    live = LiveSettings({"sync_llm_interval": "6", "bogus": "1", "log_body_mode": "loud"})
    assert live.sync_llm_interval == 6
    assert live.log_body_mode is BodyMode.ERRORS  # invalid stored value: the default
    heard: list[tuple[str, str]] = []
    stop = live.subscribe(lambda k, v: heard.append((k, v)), frozenset({"log_retention_days"}))
    everything: list[str] = []
    live.subscribe(lambda k, v: everything.append(k))
    assert live.set("log_retention_days", "3") is True
    assert live.set("log_retention_days", "3") is False  # unchanged: nobody called
    live.set("proxy_url", "http://p:1")
    stop()
    live.set("log_retention_days", "4")
    assert heard == [("log_retention_days", "3")]
    assert everything == ["log_retention_days", "proxy_url", "log_retention_days"]


async def _preflight(
    url: str, origin: str, headers: str = "content-type, authorization"
) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.options(
            url + "/api/v1/channel/list",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": headers,
            },
        )


async def test_cors_follows_the_setting_live(gateway: Gateway, admin: httpx.AsyncClient) -> None:
    refused = await _preflight(gateway.url, "https://panel.example")
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    plain = await admin.get("/api/v1/setting/list", headers={"Origin": "https://panel.example"})
    assert plain.status_code == 200
    assert "access-control-allow-origin" not in plain.headers

    data(
        await _set(
            admin, "cors_allow_origins", "https://panel.example/, tools.example, dev.example:8443"
        )
    )
    allowed = await _preflight(gateway.url, "https://panel.example")
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == "https://panel.example"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert allowed.headers["access-control-allow-methods"] == "GET, POST, PUT, DELETE, OPTIONS"
    assert allowed.headers["access-control-allow-headers"] == "content-type, authorization"
    assert "Origin" in allowed.headers["vary"]

    # a bare host means its https origin on the default port; a host with a port, that port
    by_host = await _preflight(gateway.url, "https://tools.example")
    assert by_host.status_code == 204
    assert by_host.headers["access-control-allow-origin"] == "https://tools.example"
    for other in ("http://tools.example", "https://tools.example:8443", "http://dev.example"):
        assert (await _preflight(gateway.url, other)).status_code == 403, other
    with_port = await _preflight(gateway.url, "http://dev.example:8443")
    assert with_port.headers["access-control-allow-origin"] == "http://dev.example:8443"
    actual = await admin.get("/api/v1/setting/list", headers={"Origin": "https://panel.example"})
    assert actual.headers["access-control-allow-origin"] == "https://panel.example"
    assert actual.headers["access-control-allow-credentials"] == "true"
    assert actual.headers["access-control-expose-headers"] == "Content-Disposition"
    assert (await _preflight(gateway.url, "https://evil.example")).status_code == 403

    data(await _set(admin, "cors_allow_origins", "*"))
    anyone = await _preflight(gateway.url, "https://evil.example")
    assert anyone.status_code == 204
    assert anyone.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in anyone.headers
    relay = await admin.post(
        "/v1/chat/completions", json={}, headers={"Origin": "https://x.example"}
    )
    assert relay.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in relay.headers

    data(await _set(admin, "cors_allow_origins", ""))
    assert (await _preflight(gateway.url, "https://panel.example")).status_code == 403


async def test_cors_star_with_listed_origin(tmp_path: Path) -> None:
    async with serve(sqlite_settings(tmp_path)) as gateway:
        client = await admin_client(gateway)
        data(await _set(client, "cors_allow_origins", "*,https://trusted.example"))
        trusted = await _preflight(gateway.url, "https://trusted.example")
        assert trusted.headers["access-control-allow-origin"] == "https://trusted.example"
        assert trusted.headers["access-control-allow-credentials"] == "true"
        other = await _preflight(gateway.url, "https://other.example")
        assert other.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in other.headers
        await client.aclose()
