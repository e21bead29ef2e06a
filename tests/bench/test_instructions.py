"""The counted scenario (bench/instructions.py) counts for real: the Python floor under callgrind,
behind the bench's own upstream, executes more instructions for longer streams, and the counts
come back as a table beside the floor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import instructions
import lean_client as lc
import pytest
import uvloop
from procs import cores, tool
from targets import FLOOR, Target, start_floor, start_upstream


@pytest.fixture
def counted_floor(tmp_path: Path) -> Iterator[tuple[Target, Path]]:
    load_core, target_core = cores()
    upstream = start_upstream(tmp_path, load_core, 0.0)
    out = tmp_path / "floor.cg"
    wrap = [tool("valgrind"), "--tool=callgrind", "--instr-atstart=no"]
    floor = start_floor(
        tmp_path, target_core, upstream, wrap=[*wrap, f"--callgrind-out-file={out}"]
    )
    yield floor, out
    for child in [*floor.procs, *upstream.procs]:
        child.stop()


def test_longer_streams_count_more_instructions(counted_floor: tuple[Target, Path]) -> None:
    floor, out = counted_floor
    pid = floor.procs[0].pid
    uvloop.run(instructions._streams(floor, 2))  # warm
    short, _ = instructions._counted(pid, out, lambda: uvloop.run(instructions._streams(floor, 2)))
    long, dump = instructions._counted(
        pid, out, lambda: uvloop.run(instructions._streams(floor, 20))
    )
    assert 0 < short < long
    top = instructions._top(dump)
    assert top
    assert all(count > 0 and where for count, where in top)
    assert [p[0] for p in instructions._served(FLOOR)] == [lc.PATHS[0][0]]  # passthrough only
    assert instructions._burst(pid, out, floor, lc.PATHS[0][2]) > 0  # written at once: counted


def test_the_table_shows_each_target_beside_the_floor() -> None:
    counts = [
        instructions.Counts(FLOOR, per_stream=100_000, per_event=5_000, per_request=90_000),
        instructions.Counts(
            "gateway",
            per_stream=1_200_000,
            per_event=11_000,
            per_request=900_000,
            top=[(7, "f")],
            burst={lc.PATHS[0][0]: 2_000, lc.PATHS[1][0]: 3_000},
        ),
    ]
    text = "\n".join(instructions.section(counts))
    assert "| gateway | 1,200,000 | 11,000 | 900,000 | 12.0× |" in text
    assert "| python-floor | 100,000 | 5,000 | 90,000 | 1.0× |" in text
    assert "| 7 | `f` |" in text
    assert f"| gateway | {lc.PATHS[1][0]} | 3,000 | 1.50× |" in text
    assert "gateway 1,200k instructions/stream" in instructions.history(counts)
    assert "many per read 2,000/3,000" in instructions.history(counts)
