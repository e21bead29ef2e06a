"""What keeps the serving process small: one malloc arena, and migrations in a child process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_ARENAS = """
import ctypes, os, sys, threading
from octopus.core.memory import one_malloc_arena
capped = sys.argv[1] == "capped" and one_malloc_arena()
def allocate():
    kept = [bytes(2048) for _ in range(2000)]  # above pymalloc's 512 bytes: glibc malloc
    barrier.wait()
barrier = threading.Barrier(4)
threads = [threading.Thread(target=allocate) for _ in range(4)]
for thread in threads: thread.start()
for thread in threads: thread.join()
sys.stderr.flush()
os.dup2(1, 2)  # malloc_stats writes to stderr: read it on stdout
ctypes.CDLL("libc.so.6").malloc_stats()
"""


def _arenas(mode: str) -> int:
    result = subprocess.run(
        [sys.executable, "-c", _ARENAS, mode],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[2] / "src")},
    )
    return result.stdout.count("Arena ")


def test_threads_share_one_malloc_arena_once_capped() -> None:
    assert _arenas("default") > 1, "four allocating threads get arenas of their own"
    assert _arenas("capped") == 1


_MIGRATE = """
import sys
from pathlib import Path
from octopus.server import migrate_apart
from octopus.settings import Settings
settings = Settings.load(Path("data/config.json"))
code = migrate_apart(settings, None)
import asyncio
from octopus.store.database import schema_is_current
print(code, "alembic" in sys.modules, asyncio.run(schema_is_current(settings)))
"""


def test_a_new_database_is_migrated_by_a_child_process(tmp_path: Path) -> None:
    def run() -> str:
        return subprocess.run(
            [sys.executable, "-c", _MIGRATE],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[2] / "src")},
        ).stdout

    # migrated (0, now current) without alembic ever loading in this process
    first = run()
    assert first.split()[-3:] == ["0", "False", "True"]
    assert "database schema is up to date" in first, "the child `octopus migrate` said so"
    assert (tmp_path / "data" / "data.db").exists()
    second = run()
    assert second.split()[-3:] == ["0", "False", "True"]
    assert "database schema is up to date" not in second, "already current: no child at all"
