"""Sample the gateway under load with py-spy and summarise where its CPU goes (file:line)."""

from __future__ import annotations

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
INSTALL = ".venv/bin/pip install py-spy"


@dataclass(frozen=True)
class Profile:
    """Collapsed stacks from `py-spy record --format raw`: (frames root→leaf, samples)."""

    stacks: list[tuple[list[str], int]]

    @property
    def total(self) -> int:
        return sum(count for _, count in self.stacks)

    @classmethod
    def parse(cls, text: str) -> Profile:
        stacks: list[tuple[list[str], int]] = []
        for line in text.splitlines():
            frames, _, count = line.rpartition(" ")
            if frames and count.isdigit():
                stacks.append((frames.split(";"), int(count)))
        return cls(stacks)

    def self_lines(self) -> Counter[str]:
        """Samples whose innermost frame is this line (where the CPU actually is)."""
        found: Counter[str] = Counter()
        for frames, count in self.stacks:
            found[frames[-1]] += count
        return found

    def inclusive_functions(self) -> Counter[str]:
        """Samples with this function anywhere on the stack (counted once per stack)."""
        found: Counter[str] = Counter()
        for frames, count in self.stacks:
            for name in {_function(frame) for frame in frames}:
                found[name] += count
        return found

    def own_lines(self) -> Counter[str]:
        """Each sample charged to the innermost gateway line on its stack (callees included)."""
        found: Counter[str] = Counter()
        for frames, count in self.stacks:
            mine = [frame for frame in frames if OWN in frame]
            found[mine[-1] if mine else "(outside octopus: server, event loop, libraries)"] += count
        return found


def _function(frame: str) -> str:
    match = FRAME.match(frame)
    return f"{match['func']} ({match['file']})" if match else frame


def record(pid: int, seconds: float, out: Path, load: Callable[[], object]) -> Profile:
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


def summary(title: str, profile: Profile, limit: int = 20) -> list[str]:
    total = profile.total
    return [
        f"### {title} ({total} samples)",
        "",
        "Charged to the innermost gateway line (what it calls included):",
        "",
        *top(profile.own_lines(), total, limit),
        "",
        "Innermost frame (self time):",
        "",
        *top(profile.self_lines(), total, limit),
        "",
        "Functions on the stack (inclusive):",
        "",
        *top(profile.inclusive_functions(), total, limit),
        "",
    ]


def render(sections: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    out = ["# Relay profile (py-spy, gateway under c=50 load)", "", *header, ""]
    for lines in sections:
        out += lines
    return "\n".join(out) + "\n"
