"""Backup fixtures: the Go project's version-2 dump and helpers to import and inspect."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from octopus.pricing.model_match import NameMatcher, Rates
from octopus.store import backup, tables
from octopus.store.backup_rows import parse_dump
from octopus.store.database import Database
from octopus.store.prices import snapshot_reference
from octopus.web.admin.backup import _relay_config

FIXTURES = Path(__file__).parent.parent / "fixtures"
GO_DUMP = FIXTURES / "octopus-go-v2-dump.json"
_MATCHER = NameMatcher(snapshot_reference())
TABLES = (
    tables.Channel,
    tables.ChannelKey,
    tables.Group,
    tables.GroupItem,
    tables.ApiKey,
    tables.LlmInfo,
    tables.Setting,
    tables.StatsHourly,
)


def go_dump() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(GO_DUMP.read_text())
    return doc


def reference(name: str) -> Rates | None:
    found = _MATCHER.lookup(name)
    return None if found is None else found.value


async def run(database: Database, doc: dict[str, Any]) -> backup.ImportReport:
    return await backup.run_import(
        database.sessions,
        parse_dump(doc, _relay_config),
        reference=reference,
        exported_at=1_763_626_530.0,
    )


async def counts(database: Database) -> dict[str, int]:
    async with database.sessions() as session:
        return {
            t.__tablename__: int(
                (await session.execute(select(func.count()).select_from(t))).scalar_one()
            )
            for t in TABLES
        }


async def snapshot(database: Database) -> str:
    """Everything the import may touch, as one comparable text."""
    async with database.sessions() as session:
        doc = await backup.export_dump(session, include_stats=True, now=1_800_000_000.0)
    return json.dumps(doc, sort_keys=True, default=str)
