"""Where a run happened: the commit, the machine, the tool versions."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from procs import tool

REPO = Path(__file__).resolve().parent.parent


def git(*argv: str) -> str:
    done = subprocess.run(
        ["git", "--no-optional-locks", "-C", str(REPO), *argv],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip()


def commit() -> str:
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = subprocess.run(
        ["git", "--no-optional-locks", "-C", str(REPO), "diff", "--quiet", "HEAD", "--", "src"],
        check=False,
    ).returncode
    return head + (" + uncommitted changes in src/" if dirty else "")


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} × {model}, Linux {platform.release()}"


def versions() -> str:
    nginx = subprocess.run([tool("nginx"), "-v"], capture_output=True, text=True, check=False)
    wrk = subprocess.run([tool("wrk"), "-v"], capture_output=True, text=True, check=False)
    wrk_version = (wrk.stdout + wrk.stderr).split()[1] if (wrk.stdout + wrk.stderr) else "?"
    return (
        f"Python {platform.python_version()}, {nginx.stderr.strip().split(': ')[-1]}, "
        f"wrk {wrk_version}"
    )
