"""One truth for configuration: a write on one instance is live on every other one.

Promised: within 1 s through Redis pub/sub, within 5 s by the polling backstop when a message is
lost or Redis is down; a disabled or deleted key refused everywhere within 2 s. The instances here
poll only every LONG_POLL seconds (but in the backstop test), so a change seen in time came by
pub/sub; bounds are wide for a busy machine and the measured times are printed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.cluster.conftest import cluster_env
from tests.cluster.fleet import all_answer, make_routing
from tests.cluster.harness import DEAD_REDIS_URL, Cluster, Instance, login, wait_ready, within
from tests.fakes.upstream import FakeUpstream
from tests.harness import TEST_ADMIN_PASSWORD

pytestmark = pytest.mark.integration
BOUND = 8.0  # far below LONG_POLL: only a message can make it


async def _three(cluster: Cluster) -> list[Instance]:
    instances = [cluster.launch(name) for name in ("a", "b", "c")]
    await asyncio.gather(*(wait_ready(i) for i in instances))
    return instances


async def test_writes_on_one_instance_are_live_on_all_by_pub_sub(
    pg_cluster: Cluster, upstream: FakeUpstream
) -> None:
    a, b, c = await _three(pg_cluster)
    async with login(a) as admin:
        routing = await make_routing(admin, upstream)
        await within(
            lambda: all_answer([b, c], routing.api_key, 200),
            BOUND,
            "new channel+group+key served by b and c",
        )
        key = {"id": routing.key_id, "enabled": False}
        (await admin.post("/api/v1/apikey/update", json=key)).raise_for_status()
        await within(
            lambda: all_answer([a, b, c], routing.api_key, 403),
            BOUND,
            "disabled key refused everywhere",
        )
        key["enabled"] = True
        (await admin.post("/api/v1/apikey/update", json=key)).raise_for_status()
        await within(
            lambda: all_answer([b, c], routing.api_key, 200), BOUND, "re-enabled key served"
        )
        deleted = await admin.delete(f"/api/v1/apikey/delete/{routing.key_id}")
        deleted.raise_for_status()
        await within(
            lambda: all_answer([a, b, c], routing.api_key, 401),
            BOUND,
            "deleted key refused everywhere",
        )


async def test_settings_and_the_account_follow_by_pub_sub(pg_cluster: Cluster) -> None:
    a, b, _ = await _three(pg_cluster)
    async with login(a) as admin_a, login(b) as admin_b:
        changed = await admin_a.post(
            "/api/v1/setting/set", json={"key": "proxy_url", "value": "http://127.0.0.1:9"}
        )
        changed.raise_for_status()

        async def b_sees_setting() -> bool:
            listed = (await admin_b.get("/api/v1/setting/list")).json()["data"]
            return any(
                s["key"] == "proxy_url" and s["value"] == "http://127.0.0.1:9" for s in listed
            )

        await within(b_sees_setting, BOUND, "setting visible on b")
        moved = await admin_a.post(
            "/api/v1/user/change-password",
            json={"old_password": TEST_ADMIN_PASSWORD, "new_password": "s3cret-new"},
        )
        moved.raise_for_status()

        async def b_session_void() -> bool:
            return (await admin_b.get("/api/v1/user/status")).status_code == 401

        # (a session is also re-read from the DB within 2 s: this one is not pub/sub alone)
        await within(b_session_void, BOUND, "b's old session refused")
    async with b.client() as fresh:
        old = await fresh.post(
            "/api/v1/user/login", json={"username": "admin", "password": TEST_ADMIN_PASSWORD}
        )
        assert old.status_code == 401
    async with login(b, "s3cret-new") as renewed:
        assert renewed.cookies


async def test_polling_backstop_when_messages_are_lost_or_redis_is_down(
    pg_cluster: Cluster, upstream: FakeUpstream
) -> None:
    poll = {"OCTOPUS_CONFIG_POLL_SECONDS": "2"}  # the shipped default
    a = await pg_cluster.start("a")
    # another prefix: a's messages never reach it, as if every one were lost
    deaf = pg_cluster.launch("deaf", {**poll, "OCTOPUS_REDIS_PREFIX": "octodeaf:"})
    lonely = pg_cluster.launch("lonely", {**poll, "OCTOPUS_REDIS_URL": DEAD_REDIS_URL})
    await asyncio.gather(wait_ready(deaf), wait_ready(lonely))
    ready = await wait_ready(lonely)
    assert ready["coordination"] == "local-fallback"
    async with login(a) as admin:
        routing = await make_routing(admin, upstream)
        await within(
            lambda: all_answer([deaf, lonely], routing.api_key, 200),
            10.0,
            "backstop: new key served without messages",
        )
        key = {"id": routing.key_id, "enabled": False}
        (await admin.post("/api/v1/apikey/update", json=key)).raise_for_status()
        await within(
            lambda: all_answer([deaf, lonely], routing.api_key, 403),
            10.0,
            "backstop: disabled key refused without messages",
        )
    assert "redis unavailable" in lonely.log()


async def test_on_mariadb_a_new_key_and_its_revocation_reach_the_other_instance(
    tmp_path: Path, maria_dsn: str, prefix: str, upstream: FakeUpstream
) -> None:
    cluster = Cluster(tmp_path, cluster_env(maria_dsn, prefix, database_type="mysql"))
    try:
        a, b = cluster.launch("a"), cluster.launch("b")
        await asyncio.gather(wait_ready(a), wait_ready(b))
        async with login(a) as admin:
            routing = await make_routing(admin, upstream)
            await within(
                lambda: all_answer([b], routing.api_key, 200), BOUND, "mariadb: key live on b"
            )
            deleted = await admin.delete(f"/api/v1/apikey/delete/{routing.key_id}")
            deleted.raise_for_status()
            await within(
                lambda: all_answer([a, b], routing.api_key, 401),
                BOUND,
                "mariadb: deleted key refused",
            )
    finally:
        cluster.stop()
