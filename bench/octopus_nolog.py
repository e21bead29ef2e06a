"""`octopus start` with the request-log writer switched off: the "logging off" side of issue 5.

The gateway has no setting that turns request logging off, so this launcher makes the log
writer drop every record before the app starts. Everything else (auth, routing, accounting,
the live log, metrics) runs unchanged. Run: `python -P bench/octopus_nolog.py start --config …`.
"""

from __future__ import annotations

import sys

from octopus.cli import main
from octopus.store import writer


def _drop(self: writer.BatchWriter, record: object) -> None:
    """Neither queued nor written."""


setattr(writer.BatchWriter, "started", _drop)  # noqa: B010 - patch the class, not an instance
setattr(writer.BatchWriter, "finished", _drop)  # noqa: B010

if __name__ == "__main__":
    sys.exit(main())
