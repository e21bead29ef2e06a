"""Golden fixtures (shared/fixtures/protocols) and the helpers the protocol tests share."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from octopus.protocols import WireFormat, get_codec
from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from octopus.protocols.sse import SseEvent, SseParser, encode_events
from tests.fixture_paths import PROTOCOL_FIXTURES

ROOT = PROTOCOL_FIXTURES
DIRS = {
    "openai-chat": WireFormat.OPENAI_CHAT,
    "openai-responses": WireFormat.OPENAI_RESPONSES,
    "anthropic": WireFormat.ANTHROPIC,
    "gemini": WireFormat.GEMINI,
}
# recorded with a truncated JSON line (`response.created` lacks a closing brace)
MALFORMED = frozenset({"vercel-ai__parallel-tool-call-wrapper.1.chunks.txt"})


def fmt_of(path: Path) -> WireFormat:
    return DIRS[path.parent.name]


def _is_error_body(path: Path) -> bool:
    return json.loads(path.read_bytes()).get("error") is not None


def request_files() -> list[Path]:
    return sorted(ROOT.glob("*/*.request.json"))


def response_files() -> list[Path]:
    out = []
    for path in sorted(ROOT.glob("*/*.json")):
        skip = path.name.endswith((".request.json", ".aggregator.json"))
        if path.parent.name != "errors" and not skip and not _is_error_body(path):
            out.append(path)
    return out


def error_files() -> list[Path]:
    out = sorted(ROOT.glob("errors/*.json"))
    for path in sorted(ROOT.glob("*/*.json")):
        body_file = path.parent.name != "errors" and not path.name.endswith(".request.json")
        if body_file and _is_error_body(path):
            out.append(path)
    return out


def stream_files() -> list[Path]:
    return sorted([*ROOT.glob("*/*.stream.jsonl"), *ROOT.glob("*/*.chunks.txt")])


def load_stream(path: Path) -> list[list[SseEvent]]:
    """The SSE events of a fixture, one list per recorded response (some files hold several)."""
    lines = [line for line in path.read_text().split("\n") if line.strip()]
    events = [_event(path, line) for line in lines]
    streams: list[list[SseEvent]] = []
    for event in events:
        if not streams or event.event == "response.created":
            streams.append([])
        streams[-1].append(event)
    return streams


def _event(path: Path, line: str) -> SseEvent:
    if path.name.endswith(".jsonl"):
        rec = json.loads(line)
        return SseEvent(data=rec["Data"].encode(), event=rec["Type"])
    kind = ""
    if fmt_of(path) in (WireFormat.ANTHROPIC, WireFormat.OPENAI_RESPONSES):
        # the event name equals the payload's type (a regex: one fixture line is truncated)
        match = re.search(r'"type":"([^"]+)"', line)
        kind = match.group(1) if match else ""
    return SseEvent(data=line.encode(), event=kind)


def ids(paths: list[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.name}" for p in paths]


def decode_events(fmt: WireFormat, sse: list[SseEvent]) -> list[ev.Event]:
    """Feed events one by one through a decoder, then close it."""
    dec = get_codec(fmt).stream_decoder()
    out: list[ev.Event] = []
    for event in sse:
        out += dec.feed(event)
    return out + dec.close()


def encode_events_to(fmt: WireFormat, events: list[ev.Event], model: str = "m") -> list[SseEvent]:
    enc = get_codec(fmt).stream_encoder(model)
    out: list[SseEvent] = []
    for event in events:
        out += enc.feed(event)
    return out + enc.close()


def wire_roundtrip(fmt: WireFormat, sse: list[SseEvent]) -> list[SseEvent]:
    """Serialize and re-parse: what a client would actually read."""
    parser = SseParser()
    return parser.feed(encode_events(sse)) + parser.close()


def last_error(events: list[ev.Event]) -> ev.StreamError:
    """The StreamError a failed stream must end with."""
    error = events[-1]
    assert isinstance(error, ev.StreamError), error
    return error


def accumulate(events: list[ev.Event]) -> c.CanonResponse:
    acc = ev.Accumulator()
    acc.feed_all(events)
    return acc.result()


def convert_stream(source: WireFormat, target: WireFormat, sse: list[SseEvent]) -> c.CanonResponse:
    """source SSE → canonical → target SSE bytes → target decoder → accumulated response."""
    out = encode_events_to(target, decode_events(source, sse))
    return accumulate(decode_events(target, wire_roundtrip(target, out)))


# what a stop reason becomes after a trip through a format that cannot say it
_STOP_AFTER: dict[WireFormat, dict[str, str]] = {
    WireFormat.OPENAI_CHAT: {"stop_sequence": "end", "refusal": "content_filter", "pause": "end"},
    WireFormat.OPENAI_RESPONSES: {
        "stop_sequence": "end",
        "refusal": "content_filter",
        "pause": "end",
    },
    WireFormat.ANTHROPIC: {"content_filter": "refusal"},
    WireFormat.GEMINI: {"stop_sequence": "end", "refusal": "content_filter", "pause": "end"},
}
_NO_REASONING_USAGE = {WireFormat.ANTHROPIC}
_NO_CACHE_WRITE = {WireFormat.GEMINI}


def essentials(resp: c.CanonResponse, via: WireFormat | None = None) -> dict[str, Any]:
    """Text, reasoning text, calls, usage and stop reason, as a trip through `via` keeps them."""
    calls = [
        (b.name, json.loads(b.arguments or "{}")) for b in resp.content if isinstance(b, c.ToolCall)
    ]
    usage = resp.usage
    stop: str | None = resp.stop_reason
    if via is not None:
        stop = _STOP_AFTER[via].get(stop or "end", stop)
        if via in (WireFormat.OPENAI_RESPONSES, WireFormat.GEMINI) and stop in ("end", "tool_use"):
            stop = "tool_use" if calls else "end"
        if via in _NO_REASONING_USAGE:
            usage = c.Usage(
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_read_tokens,
                usage.cache_write_tokens,
            )
        if via in _NO_CACHE_WRITE:
            usage = c.Usage(
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_read_tokens,
                0,
                usage.reasoning_tokens,
            )
    return {
        "text": "".join(b.text for b in resp.content if isinstance(b, c.Text)),
        "reasoning": "".join(b.text for b in resp.content if isinstance(b, c.Reasoning)),
        "calls": calls,
        "usage": usage,
        "stop": stop,
        "error": resp.error.message if resp.error else None,
    }


def sse(fmt: WireFormat, *payloads: dict[str, Any]) -> list[SseEvent]:
    """SSE events for JSON payloads (Anthropic and Responses name events by their type)."""
    named = fmt in (WireFormat.ANTHROPIC, WireFormat.OPENAI_RESPONSES)
    return [SseEvent(json.dumps(p).encode(), p["type"] if named else "") for p in payloads]


def decode(fmt: WireFormat, body: dict[str, Any]) -> c.CanonRequest:
    return get_codec(fmt).decode_request(json.dumps(body).encode(), model="m")


def encode(fmt: WireFormat, req: c.CanonRequest) -> tuple[dict[str, Any], set[str]]:
    """The request body for `fmt` and the fields the encoder reported as lost."""
    losses: list[c.Loss] = []
    out = json.loads(get_codec(fmt).encode_request(req, losses))
    return out, {loss.field for loss in losses}
