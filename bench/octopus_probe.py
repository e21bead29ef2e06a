"""`octopus start` that also reports its live asyncio task count (for the soak's leak check).

A daemon thread asks the event loop, once a second and on the loop's own thread, how many
tasks exist and writes the number to `tasks.txt` in the working folder. Nothing else changes.
Run: `python -P bench/octopus_probe.py start --config …`.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path

import uvloop

from octopus.cli import main

OUT = Path("tasks.txt")
_new_loop = uvloop.new_event_loop


def _write_count() -> None:
    OUT.write_text(str(len(asyncio.all_tasks())))


def _report(loop: asyncio.AbstractEventLoop) -> None:
    while not loop.is_closed():
        time.sleep(1.0)
        try:
            loop.call_soon_threadsafe(_write_count)
        except RuntimeError:  # the loop closed meanwhile
            return


def _watched_loop() -> asyncio.AbstractEventLoop:
    loop = _new_loop()
    threading.Thread(target=_report, args=(loop,), daemon=True).start()
    return loop


setattr(uvloop, "new_event_loop", _watched_loop)  # noqa: B010 - before the server builds it

if __name__ == "__main__":
    sys.exit(main())
