"""One truth for configuration: a write on one instance is live on every other one.

Promised: within 1 s through Redis pub/sub, within 5 s by the polling backstop when a message is
lost or Redis is down; a disabled or deleted key refused everywhere within 2 s.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.cluster.conftest import cluster_env
from tests.cluster.fleet import all_answer, make_routing
from tests.cluster.harness import DEAD_REDIS_URL, Cluster, login, wait_ready, within
from tests.fakes.upstream import FakeUpstream
from tests.harness import TEST_ADMIN_PASSWORD

pytestmark = pytest.mark.integration


async def _three(cluster: Cluster) -> list:  # type: ignore[type-arg]
    instances = [cluster.launch(name) for name in ("a", "b", "c")]
    await asyncio.gather(*(wait_ready(i) for i in instances))
    return instances


async def test_writes_on_one_instance_are_live_on_all_within_a_second(
    pg_cluster: Cluster, upstream: FakeUpstream
) -> None:
    a, b, c = await _three(pg_cluster)
    admin = await login(a)
    routing = await make_routing(admin, upstream)
    await within(
        lambda: all_answer([b, c], routing.api_key, 200),
        1.0,
        "new channel+group+key served by b and c",
    )

    disabled = await admin.post(
        "/api/v1/apikey/update", json={"id": routing.key_id, "enabled": False}
    )
    disabled.raise_for_status()
    await within(
        lambda: all_answer([a, b, c], routing.api_key, 403), 2.0, "disabled key refused everywhere"
    )

    await admin.post("/api/v1/apikey/update", json={"id": routing.key_id, "enabled": True})
    await within(lambda: all_answer([b, c], routing.api_key, 200), 1.0, "re-enabled key served")
    deleted = await admin.delete(f"/api/v1/apikey/delete/{routing.key_id}")
    deleted.raise_for_status()
    await within(
        lambda: all_answer([a, b, c], routing.api_key, 401), 2.0, "deleted key refused everywhere"
    )
    await admin.aclose()


async def test_settings_and_the_account_follow_within_a_second(pg_cluster: Cluster) -> None:
    a, b, _ = await _three(pg_cluster)
    admin_a, admin_b = await login(a), await login(b)
    changed = await admin_a.post(
        "/api/v1/setting/set", json={"key": "proxy_url", "value": "http://127.0.0.1:9"}
    )
    changed.raise_for_status()

    async def b_sees_setting() -> bool:
        listed = (await admin_b.get("/api/v1/setting/list")).json()["data"]
        return any(s["key"] == "proxy_url" and s["value"] == "http://127.0.0.1:9" for s in listed)

    await within(b_sees_setting, 1.0, "setting visible on b")

    moved = await admin_a.post(
        "/api/v1/user/change-password",
        json={"old_password": TEST_ADMIN_PASSWORD, "new_password": "s3cret-new"},
    )
    moved.raise_for_status()

    async def b_session_void() -> bool:
        return (await admin_b.get("/api/v1/user/status")).status_code == 401

    await within(b_session_void, 1.0, "b's old session refused")
    async with b.client() as fresh:
        old = await fresh.post(
            "/api/v1/user/login", json={"username": "admin", "password": TEST_ADMIN_PASSWORD}
        )
        assert old.status_code == 401
    renewed = await login(b, "s3cret-new")
    assert renewed.cookies
    await renewed.aclose()
    await admin_a.aclose()
    await admin_b.aclose()


async def test_polling_backstop_when_messages_are_lost_or_redis_is_down(
    pg_cluster: Cluster, upstream: FakeUpstream
) -> None:
    a = await pg_cluster.start("a")
    # another prefix: a's messages never reach it, as if every one were lost
    deaf = pg_cluster.launch("deaf", {"OCTOPUS_REDIS_PREFIX": "octodeaf:"})
    lonely = pg_cluster.launch("lonely", {"OCTOPUS_REDIS_URL": DEAD_REDIS_URL})
    await asyncio.gather(wait_ready(deaf), wait_ready(lonely))
    ready = await wait_ready(lonely)
    assert ready["coordination"] == "local-fallback"
    admin = await login(a)
    routing = await make_routing(admin, upstream)
    await within(
        lambda: all_answer([deaf, lonely], routing.api_key, 200),
        5.0,
        "backstop: new key served without messages",
    )
    assert "redis unavailable" in lonely.log()
    await admin.aclose()


async def test_on_mariadb_a_new_key_and_its_revocation_reach_the_other_instance(
    tmp_path: Path, maria_dsn: str, prefix: str, upstream: FakeUpstream
) -> None:
    cluster = Cluster(tmp_path, cluster_env(maria_dsn, prefix, database_type="mysql"))
    try:
        a, b = cluster.launch("a"), cluster.launch("b")
        await asyncio.gather(wait_ready(a), wait_ready(b))
        admin = await login(a)
        routing = await make_routing(admin, upstream)
        await within(lambda: all_answer([b], routing.api_key, 200), 1.0, "mariadb: key live on b")
        await admin.delete(f"/api/v1/apikey/delete/{routing.key_id}")
        await within(
            lambda: all_answer([a, b], routing.api_key, 401), 2.0, "mariadb: deleted key refused"
        )
        await admin.aclose()
    finally:
        cluster.stop()
