"""Store functions and the catalog loader on every engine: rows in, routing snapshot out."""

from __future__ import annotations

from octopus.protocols import WireFormat
from octopus.records.group_mode import GroupMode
from octopus.routing.catalog import RelayConfig
from octopus.store import channels, groups
from octopus.store import tables as t
from octopus.store.catalog_loader import CatalogHolder, KeyHealthRecorder, load_catalog
from octopus.store.channels import KeySpec
from octopus.store.database import Database
from octopus.store.groups import ItemSpec

BASE = {"type": "anthropic", "base_url": "https://api.example.com/v1", "enabled": True}


async def test_loader_builds_the_snapshot(database: Database) -> None:
    async with database.sessions() as session:
        direct = await channels.create_channel(
            session,
            {**BASE, "name": "direct", "model": "a,b", "custom_model": "b,c"},
            [KeySpec("sk-1111111111111"), KeySpec("sk-2222222222222", enabled=False)],
        )
        proxied = await channels.create_channel(
            session,
            {**BASE, "name": "proxied", "proxy": True, "model": "a", "param_override": '{"x":1}'},
            [],
        )
        session.add(t.Channel(name="legacy", type="doubao", base_url="https://v", model="a"))
        await groups.create_group(
            session,
            {"name": "g", "mode": "weighted", "relay_config": {"max_attempts": 5, "cooldown": "x"}},
            [ItemSpec(direct.row.id, "c", priority=2, weight=4), ItemSpec(proxied.row.id, "a")],
        )
        session.add(t.Group(name="old", mode="legacy-mode", relay_config={}))
        session.add(t.ApiKey(name="k", key_hash="h" * 64, key_prefix="p", supported_models="g, x"))
        await session.commit()
        catalog = await load_catalog(session, "http://global:3128", version=7)

    assert catalog.version == 7
    assert set(catalog.channels) == {direct.row.id, proxied.row.id}  # unknown type skipped
    first = catalog.channels[direct.row.id]
    assert first.type is WireFormat.ANTHROPIC
    assert first.models == {"a", "b", "c"}
    assert [(k.secret, k.enabled) for k in first.keys] == [
        ("sk-1111111111111", True),
        ("sk-2222222222222", False),
    ]
    assert first.proxy_url is None
    second = catalog.channels[proxied.row.id]
    assert second.proxy_url == "http://global:3128"
    assert dict(second.param_override) == {"x": b"1"}
    assert set(catalog.groups) == {"g"}  # unknown mode skipped
    group = catalog.groups["g"]
    assert group.mode is GroupMode.WEIGHTED
    assert group.config == RelayConfig(max_attempts=5)  # unreadable cooldown: default
    assert [(m.model_name, m.priority, m.weight) for m in group.members] == [
        ("a", 0, 1),
        ("c", 2, 4),
    ]
    assert catalog.keys["h" * 64].supported_models == {"g", "x"}


async def test_holder_and_key_health(database: Database) -> None:
    holder = CatalogHolder(database.sessions, lambda: None)
    assert (await holder.reload()).channels == {}
    async with database.sessions() as session:
        stored = await channels.create_channel(
            session, {**BASE, "name": "c"}, [KeySpec("sk-aaaaaaaaaaaaaaaa")]
        )
    catalog = await holder.reload()
    assert holder.current is catalog
    assert catalog.version == 2
    key_id = stored.keys[0].id

    recorder = KeyHealthRecorder(database.sessions, holder.reload)
    recorder.key_disabled(stored.row.id, key_id, "401 from upstream")
    recorder.key_disabled(stored.row.id, 999, "unknown key: ignored")
    recorder.key_resting(stored.row.id, key_id, 30.0)
    await recorder.drain()
    assert holder.current.channels[stored.row.id].keys[0].enabled is False
    async with database.sessions() as session:
        again = await channels.get_channel(session, stored.row.id)
    assert (again.keys[0].enabled, again.keys[0].disabled_reason) == (False, "401 from upstream")


async def test_set_channel_models(database: Database) -> None:
    async with database.sessions() as session:
        stored = await channels.create_channel(
            session, {**BASE, "name": "c", "model": "a,b", "custom_model": "z"}, []
        )
        await groups.create_group(
            session,
            {"name": "g", "mode": "failover", "relay_config": {}},
            [ItemSpec(stored.row.id, "a"), ItemSpec(stored.row.id, "b")],
        )
        assert await channels.set_channel_models(session, stored.row.id, ["b", "z", "new"]) is True
        assert await channels.set_channel_models(session, stored.row.id, ["b", "new"]) is False
        row = (await channels.get_channel(session, stored.row.id)).row
        assert (row.model, row.custom_model) == ("b,new", "z")
        [group] = await groups.list_groups(session)
        assert [i.model_name for i in group.items] == ["b"]
