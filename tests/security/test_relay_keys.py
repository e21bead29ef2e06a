"""Upstream credentials against the real process: a 403 only rests a key and enabling the
channel again lifts it at once; a 401 disables a key only when a models probe confirms it."""

from __future__ import annotations

import httpx

from tests.fakes.upstream import FakeUpstream, Fault
from tests.harness import Process
from tests.security import relay_setup as s
from tests.security.conftest import no_traceback

ASK = {"model": "g", "messages": [{"role": "user", "content": "hi"}]}


def _ask(gateway: Process, key: str) -> httpx.Response:
    return httpx.post(
        gateway.url + "/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json=ASK,
        timeout=30,
    )


def _keys(admin: httpx.Client) -> list[dict[str, object]]:
    (channel,) = s.data(admin.get("/api/v1/channel/list"))
    keys: list[dict[str, object]] = channel["keys"]
    return keys


def test_a_403_rests_the_key_and_enabling_the_channel_lifts_it(
    fake: FakeUpstream, gateway: Process
) -> None:
    fake.script("c1", Fault(status=403))  # one request-dependent refusal
    with s.admin(gateway.url) as admin:
        channel_id = s.add_channel(admin, fake, "c1")
        s.add_group(admin, "g", [channel_id])
        key = s.add_key(admin, "k")
        refused = _ask(gateway, key)
        assert refused.status_code == 502  # our key was refused: an upstream failure, not theirs
        assert "request id" in refused.json()["error"]["message"]
        resting = _ask(gateway, key)  # the only key rests: nothing is sent upstream
        assert resting.status_code == 429
        assert int(resting.headers["retry-after"]) > 0
        assert "request id" in resting.json()["error"]["message"]
        (view,) = _keys(admin)
        assert view["enabled"] is True  # a 403 never switches a key off
        assert str(view["resting_reason"]).startswith("upstream answered 403")
        assert int(str(view["resting_seconds"])) > 0
        s.data(admin.post("/api/v1/channel/enable", json={"id": channel_id, "enabled": True}))
        assert _ask(gateway, key).status_code == 200  # lifted at once, no restart, no wait
        assert "resting_reason" not in _keys(admin)[0]
    assert len([r for r in fake.received if r.method == "POST"]) == 2
    no_traceback(gateway)


def test_a_401_confirmed_by_the_probe_disables_the_key_until_re_enabled(
    fake: FakeUpstream, gateway: Process
) -> None:
    secret = "sk-upstream-c1-refused-0123456789"
    fake.refused_keys[secret] = 401
    with s.admin(gateway.url) as admin:
        channel_id = s.add_channel(admin, fake, "c1", keys=[secret, "sk-upstream-c1-good-98765"])
        s.add_group(admin, "g", [channel_id])
        key = s.add_key(admin, "k")
        assert _ask(gateway, key).status_code == 200  # failed over to the second key
        s.until(lambda: _keys(admin)[0]["enabled"] is False)
        refused = _keys(admin)[0]
        assert "confirmed by the models endpoint" in str(refused["disabled_reason"])
        assert secret not in str(refused)  # the reason never carries the key
        probes = [r for r in fake.received if r.method == "GET"]
        assert [p.path for p in probes] == ["/v1/models"]
        for _ in range(3):
            assert _ask(gateway, key).status_code == 200
        posts = [r.headers["authorization"] for r in fake.received if r.method == "POST"]
        assert posts.count(f"Bearer {secret}") == 1  # never used again once disabled
        del fake.refused_keys[secret]  # the provider account is fixed
        keys = [{"id": k["id"], "enabled": True} for k in _keys(admin)]
        s.data(admin.post("/api/v1/channel/update", json={"id": channel_id, "keys": keys}))
        assert all(k["enabled"] is True and not k["disabled_reason"] for k in _keys(admin))
        for _ in range(2):
            assert _ask(gateway, key).status_code == 200
        posts = [r.headers["authorization"] for r in fake.received if r.method == "POST"]
        assert posts.count(f"Bearer {secret}") == 2  # back in the rotation at once
    no_traceback(gateway)
