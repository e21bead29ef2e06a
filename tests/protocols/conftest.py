"""Golden fixture discovery for the protocol tests (files in shared/fixtures/protocols)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from octopus.core.sse import SseEvent
from octopus.protocols import WireFormat

ROOT = Path("/work/shared/fixtures/protocols")
DIRS = {
    "openai-chat": WireFormat.OPENAI_CHAT,
    "openai-responses": WireFormat.OPENAI_RESPONSES,
    "anthropic": WireFormat.ANTHROPIC,
    "gemini": WireFormat.GEMINI,
}


def fmt_of(path: Path) -> WireFormat:
    return DIRS[path.parent.name]


def is_error_body(path: Path) -> bool:
    return "error" in json.loads(path.read_bytes())


def request_files() -> list[Path]:
    return sorted(ROOT.glob("*/*.request.json"))


def response_files() -> list[Path]:
    out = []
    for path in sorted(ROOT.glob("*/*.json")):
        if path.parent.name == "errors" or path.name.endswith((".request.json", ".aggregator.json")):
            continue
        if not is_error_body(path):
            out.append(path)
    return out


def error_files() -> list[Path]:
    out = sorted(ROOT.glob("errors/*.json"))
    for path in sorted(ROOT.glob("*/*.json")):
        if path.parent.name != "errors" and not path.name.endswith(".request.json"):
            if is_error_body(path):
                out.append(path)
    return out


def stream_files() -> list[Path]:
    return sorted([*ROOT.glob("*/*.stream.jsonl"), *ROOT.glob("*/*.chunks.txt")])


def load_stream(path: Path) -> list[list[SseEvent]]:
    """The SSE events of a fixture, split into one list per recorded response."""
    events = [_event(path, line) for line in path.read_text().splitlines() if line.strip()]
    streams: list[list[SseEvent]] = []
    for event in events:
        if not streams or _opens_stream(event):
            streams.append([])
        streams[-1].append(event)
    return [s for s in streams if s]


def _event(path: Path, line: str) -> SseEvent:
    if path.name.endswith(".jsonl"):
        rec = json.loads(line)
        return SseEvent(data=rec["Data"].encode(), event=rec["Type"])
    kind = ""
    if fmt_of(path) in (WireFormat.ANTHROPIC, WireFormat.OPENAI_RESPONSES):
        kind = json.loads(line)["type"]
    return SseEvent(data=line.encode(), event=kind)


def _opens_stream(event: SseEvent) -> bool:
    return event.event == "response.created" or (
        event.event == "" and event.data.startswith(b'{"type":"response.created"')
    )


def _ids(paths: list[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.name}" for p in paths]


PARAMS: dict[str, list[Path]] = {
    "request_file": request_files(),
    "response_file": response_files(),
    "stream_file": stream_files(),
    "error_file": error_files(),
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for name, paths in PARAMS.items():
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, paths, ids=_ids(paths))
    if "target" in metafunc.fixturenames:
        metafunc.parametrize("target", list(WireFormat), ids=[f.value for f in WireFormat])


def as_json(data: bytes) -> Any:
    return json.loads(data)
