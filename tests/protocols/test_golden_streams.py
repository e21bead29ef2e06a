"""Golden stream fixtures: decode → encode → re-decode, event by event, same and cross format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from octopus.protocols import WireFormat
from octopus.protocols import events as ev
from octopus.protocols.sse import SseEvent
from tests.protocols import golden


def _streams(stream_file: Path) -> tuple[WireFormat, list[list[SseEvent]]]:
    fmt = golden.fmt_of(stream_file)
    return fmt, golden.load_stream(stream_file)


def test_stream_decodes_to_a_complete_grammar(stream_file):
    fmt, streams = _streams(stream_file)
    for sse in streams:
        events = golden.decode_events(fmt, sse)
        last = events[-1]
        if stream_file.name in golden.MALFORMED:
            assert events == [ev.StreamError("unreadable event from upstream", 502, "upstream")]
            continue
        assert isinstance(events[0], ev.MessageStart)
        if isinstance(last, ev.StreamError):  # a recorded in-band failure
            assert "quota" in last.message
            continue
        assert isinstance(last, ev.MessageStop)
        started = {e.index for e in events if isinstance(e, ev.BlockStart)}
        stopped = {e.index for e in events if isinstance(e, ev.BlockStop)}
        assert started == stopped == set(range(len(started)))


def test_stream_same_format_roundtrip(stream_file):
    fmt, streams = _streams(stream_file)
    for sse in streams:
        events = golden.decode_events(fmt, sse)
        original = golden.accumulate(events)
        out = golden.encode_events_to(fmt, events, original.model)
        again = golden.accumulate(golden.decode_events(fmt, golden.wire_roundtrip(fmt, out)))
        if fmt == WireFormat.GEMINI:  # Gemini carries no creation time
            again.created = original.created
        if original.error is not None:  # the client sees our own error wording and status
            assert again.error is not None
            assert again.error.message == original.error.message
            continue
        assert again == original


def test_stream_cross_format(stream_file, target):
    fmt, streams = _streams(stream_file)
    for sse in streams:
        original = golden.accumulate(golden.decode_events(fmt, sse))
        converted = golden.convert_stream(fmt, target, sse)
        assert golden.essentials(converted) == golden.essentials(original, via=target)


def test_stream_events_are_delivered_in_order(stream_file, target):
    """Text and argument deltas reach the target in the order the source produced them."""
    fmt, streams = _streams(stream_file)
    for sse in streams:
        events = golden.decode_events(fmt, sse)
        out = golden.encode_events_to(target, events)
        again = golden.decode_events(target, golden.wire_roundtrip(target, out))
        texts = [e.text for e in events if isinstance(e, ev.TextDelta)]
        assert "".join(e.text for e in again if isinstance(e, ev.TextDelta)) == "".join(texts)


def test_openai_stop_stream_matches_recorded_aggregate():
    path = golden.ROOT / "openai-chat/axonhub__openai-stop.stream.jsonl"
    expected = json.loads(
        (golden.ROOT / "openai-chat/axonhub__openai-stop.aggregator.json").read_bytes()
    )
    resp = golden.accumulate(
        golden.decode_events(WireFormat.OPENAI_CHAT, golden.load_stream(path)[0])
    )
    assert resp.id == expected["id"]
    assert golden.essentials(resp)["text"] == expected["choices"][0]["message"]["content"]
    assert resp.usage.input_tokens == expected["usage"]["prompt_tokens"]
    assert resp.usage.output_tokens == expected["usage"]["completion_tokens"]
    assert resp.stop_reason == "end"


@pytest.mark.parametrize("fmt", list(WireFormat))
def test_truncated_stream_reports_an_error(fmt):
    """An upstream that stops mid-message must not look like a finished answer."""
    files = [
        p
        for p in golden.stream_files()
        if golden.fmt_of(p) == fmt and p.name not in golden.MALFORMED
    ]
    sse = golden.load_stream(files[0])[0]
    events = golden.decode_events(fmt, sse[: len(sse) // 2])
    assert isinstance(events[-1], ev.StreamError)
    assert golden.last_error(events).status == 502
