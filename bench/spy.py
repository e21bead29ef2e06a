"""Sample the gateway under load with py-spy and summarise where its CPU goes (file:line)."""

from __future__ import annotations

import linecache
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from procs import BenchError

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?):(?P<line>\d+)\)$")
OWN = "octopus/"
MACHINERY = (
    "/asyncio/",
    "<frozen runpy>",
    "/threading.py",
    "uvloop/",
    "bench/octopus_probe.py",  # the bench's launcher: the frames below it tell what ran
)
ENTRY = ("octopus/__main__.py", "octopus/cli.py", "octopus/server.py")  # below them: everything
BLOCKING = (
    "tx.get()",
    ".get(block=True)",
    ".get(timeout",
    ".wait(",
)  # a worker thread parked, not working
INSTALL = ".venv/bin/pip install py-spy"


@dataclass(frozen=True)
class Profile:
    """Collapsed stacks from `py-spy record --format raw`: (frames root→leaf, samples)."""

    stacks: list[tuple[list[str], int]]

    @property
    def total(self) -> int:
        return sum(count for _, count in self.stacks)

    @classmethod
    def parse(cls, text: str) -> tuple[Profile, Profile]:
        """(event-loop thread, other threads); samples of a thread blocked in a queue are dropped.

        py-spy counts aiosqlite's worker blocked in `SimpleQueue.get()` as active, which would
        swamp the profile; what that thread really runs (SQLite calls) stays in.
        """
        loop: list[tuple[list[str], int]] = []
        others: list[tuple[list[str], int]] = []
        for line in text.splitlines():
            frames_text, _, count = line.rpartition(" ")
            if not frames_text or not count.isdigit():
                continue
            frames = frames_text.split(";")
            threaded = any(frame.startswith("Thread._bootstrap ") for frame in frames[:2])
            if not threaded:
                loop.append((frames, int(count)))
            elif not _blocked(frames[-1]):
                others.append((frames, int(count)))
        return cls(loop), cls(others)

    def self_lines(self) -> Counter[str]:
        """Samples whose innermost frame is this line (where the CPU actually is)."""
        found: Counter[str] = Counter()
        for frames, count in self.stacks:
            found[frames[-1]] += count
        return found

    def inclusive_functions(self) -> Counter[str]:
        """Samples with this gateway function anywhere on the stack (counted once per stack)."""
        found: Counter[str] = Counter()
        for frames, count in self.stacks:
            names = {_function(f) for f in frames if OWN in f and not any(e in f for e in ENTRY)}
            for name in names:
                found[name] += count
        return found

    def own_lines(self) -> Counter[str]:
        """Each sample charged to the innermost gateway line on its stack (callees included)."""
        found: Counter[str] = Counter()
        for frames, count in self.stacks:
            mine = [f for f in frames if OWN in f and not any(e in f for e in ENTRY)]
            found[mine[-1] if mine else _outside(frames)] += count
        return found


def _outside(frames: list[str]) -> str:
    """Work not under a gateway frame, named by the first frame below the event loop's own."""
    for frame in frames:
        if not any(part in frame for part in (*ENTRY, *MACHINERY)):
            return f"(no gateway frame) {frame}"
    return f"(event loop's own C code: socket reads and writes, callbacks) {frames[-1]}"


def _blocked(frame: str) -> bool:
    match = FRAME.match(frame)
    if match is None:
        return False
    source = linecache.getline(match["file"], int(match["line"]))
    return any(wait in source for wait in BLOCKING)


def _function(frame: str) -> str:
    match = FRAME.match(frame)
    return f"{match['func']} ({match['file']})" if match else frame


def record(
    pid: int, seconds: float, out: Path, load: Callable[[], object]
) -> tuple[Profile, Profile]:
    """py-spy samples `pid` for `seconds` while `load()` runs; the collapsed stacks are kept."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise BenchError(f"--profile needs py-spy: `{INSTALL}`")
    argv = [spy, "record", "--pid", str(pid), "--duration", f"{round(seconds)}", "--rate", "200"]
    argv += ["--format", "raw", "--full-filenames", "-o", str(out)]
    spying = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    load()
    _, err = spying.communicate(timeout=seconds + 30)
    if spying.returncode != 0 or not out.exists():
        raise BenchError(f"py-spy failed: {err.decode(errors='replace')[-300:]}")
    return Profile.parse(out.read_text())


def _short(frame: str) -> str:
    cut = frame.find("/site-packages/")
    if cut >= 0:
        open_paren = frame.rfind("(", 0, cut)
        return frame[: open_paren + 1] + frame[cut + len("/site-packages/") :]
    src = frame.find("/src/octopus/")
    if src >= 0:
        open_paren = frame.rfind("(", 0, src)
        return frame[: open_paren + 1] + frame[src + len("/src/") :]
    return frame


def top(counter: Counter[str], total: int, limit: int) -> list[str]:
    lines = ["| % of samples | where |", "|---|---|"]
    for frame, count in counter.most_common(limit):
        lines.append(f"| {count / max(total, 1) * 100:.1f} | `{_short(frame)}` |")
    return lines


def summary(title: str, profiles: tuple[Profile, Profile], limit: int = 20) -> list[str]:
    profile, others = profiles
    total = profile.total
    busy = others.total / max(total + others.total, 1) * 100
    return [
        f"### {title} ({total} event-loop samples)",
        "",
        f"Other threads (aiosqlite's worker running SQLite, …): {others.total} samples, "
        f"{busy:.1f} % of all busy samples; top: "
        + ", ".join(f"`{_short(f)}` {c}" for f, c in others.self_lines().most_common(3)),
        "",
        "Charged to the innermost gateway line (what it calls included):",
        "",
        *top(profile.own_lines(), total, limit),
        "",
        "Innermost frame (self time):",
        "",
        *top(profile.self_lines(), total, limit),
        "",
        "Gateway functions on the stack (inclusive):",
        "",
        *top(profile.inclusive_functions(), total, limit + 10),
        "",
    ]


def render(sections: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    out = ["# Relay profile (py-spy, gateway under c=50 load)", "", *header, ""]
    for lines in sections:
        out += lines
    return "\n".join(out) + "\n"
