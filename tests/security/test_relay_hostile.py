"""Hostile upstreams against the real process: a 200 that is not JSON fails over, error bodies
lose the channel key, only allow-listed headers pass either way, and client errors name no
internal host, port or channel."""

from __future__ import annotations

import httpx
import pytest

from octopus.protocols import WireFormat
from tests.fakes.upstream import FakeUpstream, Fault
from tests.harness import Process
from tests.security import relay_setup as s
from tests.security.conftest import no_traceback

ASK = {"model": "g", "messages": [{"role": "user", "content": "hi"}]}
HTML = b"<html><body><h1>502 Bad Gateway</h1>nginx</body></html>"


def _ask(
    gateway: Process, key: str, path: str = "/v1/chat/completions", **extra: object
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", **extra.pop("headers", {})}  # type: ignore[dict-item]
    return httpx.post(gateway.url + path, headers=headers, json={**ASK, **extra}, timeout=30)


def test_a_200_html_page_is_an_upstream_failure_on_every_path(
    fake: FakeUpstream, gateway: Process
) -> None:
    html = Fault(status=200, body=HTML, headers={"Content-Type": "text/html"})
    with s.admin(gateway.url) as admin:
        s.add_group(
            admin, "g", [s.add_channel(admin, fake, "c1"), s.add_channel(admin, fake, "c2")]
        )
        s.add_group(admin, "solo", [s.add_channel(admin, fake, "c3")])
        s.add_group(admin, "solo-stream", [s.add_channel(admin, fake, "c4")])
        key = s.add_key(admin, "k")
        for stream in (False, True):
            fake.script("c1", html)
            reply = _ask(gateway, key, stream=stream)  # same protocol: passthrough
            assert reply.status_code == 200
            assert b"<html>" not in reply.content
            assert len(fake.calls("c2")) == 1 + stream  # the next member answered instead
        fake.script("c3", html)
        alone = _ask(gateway, key, model="solo")
        assert alone.status_code == 502
        assert "<html>" not in alone.text
        assert "request id" in alone.json()["error"]["message"]
        fake.script(
            "c4",
            Fault(
                status=200,
                body=b"data: not json\n\n",
                headers={"Content-Type": "text/event-stream"},
            ),
        )
        assert _ask(gateway, key, model="solo-stream", stream=True).status_code == 502
    no_traceback(gateway)


@pytest.mark.parametrize("kind", [WireFormat.OPENAI_CHAT, WireFormat.ANTHROPIC])
def test_an_error_body_that_echoes_the_channel_key_is_scrubbed(
    fake: FakeUpstream, gateway: Process, kind: WireFormat
) -> None:
    secret = "sk-upstream-echoed-0123456789abcdef"
    echo = (
        b'{"error":{"message":"Incorrect API key provided: '
        + secret.encode()
        + b'","type":"invalid_request_error"}}'
    )
    path = "/v1/messages" if kind is WireFormat.ANTHROPIC else "/v1/chat/completions"
    with s.admin(gateway.url) as admin:
        s.add_group(admin, "g", [s.add_channel(admin, fake, "c1", keys=[secret], kind=kind)])
        key = s.add_key(admin, "k")
        fake.script("c1", Fault(status=400, body=echo))
        reply = _ask(gateway, key, path, max_tokens=5)
        assert reply.status_code == 400  # a client fault, relayed in the client's protocol
        assert secret not in reply.text
        assert "Incorrect API key provided" in reply.text
        (row,) = s.logs(admin, 1)
        assert secret not in str(row)
    assert secret not in gateway.log()


def test_only_allow_listed_headers_pass_either_way(fake: FakeUpstream, gateway: Process) -> None:
    hostile = {
        "openai-organization": "org-our-account",
        "access-control-allow-origin": "*",
        "set-cookie": "session=upstream",
        "x-ratelimit-remaining-requests": "42",
        "via": "1.1 internal-proxy.corp:3128",
    }
    with s.admin(gateway.url) as admin:
        s.add_group(admin, "g", [s.add_channel(admin, fake, "c1")])
        key = s.add_key(admin, "k")
        fake.script("c1", Fault(headers=hostile))
        sent = {
            "Origin": "https://evil.example",
            "Cookie": "octopus_session=abc",
            "X-Forwarded-For": "10.0.0.7",
            "OpenAI-Organization": "org-chosen-by-client",
            "OpenAI-Beta": "assistants=v2",
            "X-Stainless-OS": "Linux",
            "User-Agent": "OpenAI/Python 2.0",
        }
        reply = _ask(gateway, key, headers=sent)
    assert reply.status_code == 200
    assert reply.headers.get("x-ratelimit-remaining-requests") == "42"
    for name in ("openai-organization", "set-cookie", "via"):
        assert name not in reply.headers
    assert reply.headers.get("access-control-allow-origin") != "*"
    forwarded = fake.calls("c1")[-1].headers
    assert forwarded["openai-beta"] == "assistants=v2"
    assert forwarded["x-stainless-os"] == "Linux"
    assert forwarded["user-agent"] == "OpenAI/Python 2.0"
    for name in ("cookie", "x-forwarded-for", "openai-organization", "origin"):
        assert name not in forwarded


def test_anthropic_betas_and_versions_still_reach_the_provider(
    fake: FakeUpstream, gateway: Process
) -> None:
    with s.admin(gateway.url) as admin:
        s.add_group(admin, "g", [s.add_channel(admin, fake, "c1", kind=WireFormat.ANTHROPIC)])
        key = s.add_key(admin, "k")
    claude_code = {
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14",
        "anthropic-dangerous-direct-browser-access": "true",
        "x-app": "cli",
        "X-Claude-Code-Session-Id": "abc",
    }
    reply = _ask(gateway, key, "/v1/messages?beta=true", max_tokens=5, headers=claude_code)
    assert reply.status_code == 200
    forwarded = fake.calls("c1")[-1].headers
    for name, value in claude_code.items():
        assert forwarded[name.lower()] == value


def test_client_errors_name_no_internal_host_port_or_channel(
    fake: FakeUpstream, gateway: Process, refused_port: int
) -> None:
    port = refused_port  # held bound for the whole test: nothing else can listen there
    with s.admin(gateway.url) as admin:
        body = {
            "name": "secret-backend-eu",
            "type": "openai",
            "base_url": f"http://127.0.0.1:{port}/v1",
            "key": "sk-upstream-unreachable-0123456789",
            "model": "m",
        }
        channel_id = int(s.data(admin.post("/api/v1/channel/create", json=body))["id"])
        s.add_group(admin, "g", [channel_id])
        key = s.add_key(admin, "k")
        reply = _ask(gateway, key)
        (row,) = s.logs(admin, 1)
        detail = s.data(admin.get(f"/api/v1/log/{row['id']}"))
    assert reply.status_code in (502, 503)
    message = reply.json()["error"]["message"]
    for internal in (str(port), "127.0.0.1", "secret-backend-eu"):
        assert internal not in message
    request_id = message.rsplit("request id ", 1)[1].rstrip(")")
    assert row["request_id"] == request_id  # the id finds the full detail in the log
    assert str(port) in str(detail["attempts"])
