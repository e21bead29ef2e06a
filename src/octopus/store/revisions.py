"""The newest migration revision read off the revision files, and the database's, without alembic.

A start on a database already at the newest revision (nearly every start) then never imports
alembic, mako and the dialects alembic loads for itself.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r'^revision(?:: [^=]+)? = "(\w+)"$', re.MULTILINE)
_DOWN = re.compile(r"^down_revision(?:: [^=]+)? = (.+)$", re.MULTILINE)
_ONE_DOWN = re.compile(r'^(None|"(\w+)")$')


def newest_revision(folder: Path = MIGRATIONS / "versions") -> str | None:
    """The one revision no other revises; None when unsure (a merge, a branch, an odd file)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in folder.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN.search(source)
        single = _ONE_DOWN.match(down.group(1).strip()) if down else None
        if revision is None or single is None:
            return None
        revisions.add(revision.group(1))
        if single.group(2):
            revised.add(single.group(2))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


async def at_newest(engine: AsyncEngine) -> bool:
    """True when the database is provably at the newest revision; False when unsure."""
    newest = newest_revision()
    if newest is None:
        return False
    try:
        async with engine.connect() as connection:
            found = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return list(found.scalars()) == [newest]
    except SQLAlchemyError:  # no version table yet, or the database is away: alembic will say
        return False
