"""A bad file is refused with a message naming the problem, and the database is unchanged."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from octopus.store import backup_stats
from octopus.store.backup_rows import DumpError, load_document, parse_dump
from octopus.store.database import Database
from tests.backup.conftest import go_dump, run, snapshot


def shifted() -> dict[str, Any]:
    """The Go dump under new ids and names: importing it on top would add rows everywhere."""
    doc = copy.deepcopy(go_dump())
    for table in ("channels", "groups", "group_items", "api_keys"):
        for row in doc[table]:
            row["id"] += 100
            if "name" in row and table != "group_items":
                row["name"] = "new-" + row["name"]
    for item in doc["group_items"]:
        item["group_id"] += 100
        item["channel_id"] += 100
    for key in doc["api_keys"]:
        key["api_key"] = key["api_key"][:-4] + "ZZZZ"
    for price in doc["llm_infos"]:
        price["input"] += 1
    return doc


def broken_item(doc: dict[str, Any]) -> None:
    doc["group_items"][2]["channel_id"] = 999


def broken_stats(doc: dict[str, Any]) -> None:
    doc["stats_daily"][1]["request_success"] = -5


def broken_type(doc: dict[str, Any]) -> None:
    doc["channels"][1]["type"] = "azure"


def broken_key(doc: dict[str, Any]) -> None:
    del doc["api_keys"][0]["api_key"]


def broken_setting(doc: dict[str, Any]) -> None:
    doc["settings"][0]["value"] = "ftp://nowhere"


def broken_version(doc: dict[str, Any]) -> None:
    doc["version"] = 3


def broken_price(doc: dict[str, Any]) -> None:
    doc["llm_infos"][1]["name"] = doc["llm_infos"][0]["name"].upper()


def broken_mode(doc: dict[str, Any]) -> None:
    doc["groups"][0]["mode"] = "lottery"


def broken_config(doc: dict[str, Any]) -> None:
    doc["groups"][0]["relay_config"] = {"member_cooldown_seconds": -1, "cooldown": -1}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (broken_version, "unsupported dump version: 3"),
        (broken_type, "channels[1].type: unknown channel type 'azure'"),
        (broken_key, "api_keys[0].key_hash: needs a sha256 hex digest"),
        (broken_setting, "settings.proxy_url: proxy_url must use the scheme"),
        (broken_price, "llm_infos[1].name: duplicate value 'gpt-4o'"),
        (broken_mode, "groups[0].mode: unknown group mode 'lottery'"),
        (broken_config, "groups[0].relay_config: relay_config: cooldown"),
        # found inside the transaction, after rows were already written
        (broken_item, "group_items[2].channel_id: channel 999 does not exist"),
        (broken_stats, "stats_daily[1].request_success: must be a non-negative number"),
    ],
)
async def test_bad_rows_are_refused_and_nothing_changes(
    database: Database, damage: Any, message: str
) -> None:
    await run(database, go_dump())
    before = await snapshot(database)
    doc = shifted()
    damage(doc)
    with pytest.raises(DumpError) as refused:
        await run(database, doc)
    assert message in refused.value.message
    assert await snapshot(database) == before
    # the undamaged file goes in: the refusal was about the row, not the rest
    assert (await run(database, shifted())).rows_affected["channels"] == 4


async def test_a_database_failure_rolls_everything_back(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await snapshot(database)

    async def fail(*args: object) -> int:
        raise OperationalError("INSERT INTO stats_hourly", {}, Exception("disk I/O error"))

    monkeypatch.setattr(backup_stats, "put_rows", fail)
    with pytest.raises(DumpError, match="the database refused the import: disk I/O error"):
        await run(database, go_dump())
    assert await snapshot(database) == before


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "the file is not valid JSON"),
        (b"[1, 2, 3]", "expected a JSON object"),
        (b'{"hello": "world"}', "no channels, groups or settings"),
        (b'{"code": 200, "message": "success", "data": {"version": 9, "channels": []}}', "version: 9"),
        (b'{"version": 2, "channels": {"id": 1}}', "channels: expected a list"),
        (b'{"version": 2, "channels": [42]}', "channels[0]: expected an object"),
        (b'{"version": "2", "channels": []}', "unsupported dump version: '2'"),
        (b'{"version": 2, "settings": "x"}', "settings: expected a list"),
    ],
)  # fmt: skip
def test_files_that_are_not_dumps(raw: bytes, message: str) -> None:
    with pytest.raises(DumpError, match=message.replace("[", r"\[").replace("(", r"\(")):
        parse_dump(load_document(raw))
