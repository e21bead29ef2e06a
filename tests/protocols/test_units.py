"""Small pure pieces: schema cleaning, effort/budget table, usage taps, keep-alives, events."""

from __future__ import annotations

import json

import pytest

from octopus.protocols import WireFormat, get_codec, schema, thinking
from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from octopus.protocols.sse import SseEvent, SseParser
from tests.protocols import golden


def test_gemini_schema_inlines_refs_and_drops_unknown_keywords():
    src = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {
            "Unit": {"type": "string", "enum": ["c", "f"]},
            "Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}},
        },
        "type": "object",
        "properties": {
            "unit": {"$ref": "#/$defs/Unit", "description": "unit"},
            "mode": {"const": "fast"},
            "count": {"type": "integer", "enum": [1, 2], "format": "uint32", "exclusiveMaximum": 9},
            "when": {"type": "string", "format": "date-time"},
            "tags": {"type": "array", "items": {"type": ["string", "null"]}},
            "either": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "missing": {"$ref": "#/$defs/Nope", "title": "t"},
            "tree": {"$ref": "#/$defs/Node"},
            "nothing": {"type": ["null"]},
        },
        "additionalProperties": False,
    }
    out = schema.for_gemini(src)
    props = out["properties"]
    assert set(out) == {"type", "properties"}
    assert props["unit"] == {"type": "string", "enum": ["c", "f"], "description": "unit"}
    assert props["mode"] == {"enum": ["fast"]}
    assert props["count"] == {"type": "integer"}
    assert props["when"] == {"type": "string", "format": "date-time"}
    assert props["tags"]["items"] == {"type": "string", "nullable": True}
    assert props["either"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert props["missing"] == {"title": "t"}
    assert props["nothing"] == {"nullable": True}
    depth, node = 0, props["tree"]
    while "properties" in node:  # a recursive $ref unrolls to a bounded depth
        node, depth = node["properties"]["next"], depth + 1
    assert node == {"type": "object"}
    assert 10 < depth < 40


def test_openai_and_anthropic_schemas():
    assert schema.for_openai({"$schema": "x", "type": "object"}) == {"type": "object"}
    assert schema.for_anthropic({}) == {"type": "object", "properties": {}}
    assert schema.for_anthropic({"properties": {}}) == {"type": "object", "properties": {}}
    assert schema.for_anthropic({"type": "object"}) == {"type": "object"}


def test_effort_budget_table():
    cfg = c.ReasoningConfig
    assert thinking.effort_of(None) is None
    assert thinking.budget_of(None) is None
    assert thinking.effort_of(cfg(budget=0)) is None
    assert thinking.effort_of(cfg(budget=-1)) is None
    assert thinking.effort_of(cfg(budget=1024)) == "low"
    assert thinking.effort_of(cfg(budget=12288)) == "medium"
    assert thinking.effort_of(cfg(budget=12289)) == "high"
    assert thinking.budget_of(cfg(effort="none")) == 0
    assert thinking.budget_of(cfg(summary="auto")) is None
    assert thinking.budget_of(cfg(effort="xhigh")) == 32768
    assert thinking.openai_effort(cfg(effort="max")) == "xhigh"
    for effort in ("low", "medium", "high"):
        assert thinking.effort_of(cfg(budget=thinking.EFFORT_BUDGET[effort])) == effort


@pytest.mark.parametrize("fmt", list(WireFormat))
def test_usage_tap_matches_the_decoded_stream(fmt):
    for path in golden.stream_files():
        if golden.fmt_of(path) != fmt or path.name in golden.MALFORMED:
            continue
        for sse in golden.load_stream(path):
            tap = get_codec(fmt).usage_tap()
            for event in sse:
                tap.feed(event)
            resp = golden.accumulate(golden.decode_events(fmt, sse))
            if resp.error is not None:
                continue
            if fmt == WireFormat.GEMINI and tap.usage is None:  # hand-written fixture without usage
                assert resp.usage == c.Usage()
                continue
            assert tap.usage == resp.usage, path.name


def test_usage_taps_ignore_noise():
    for fmt in WireFormat:
        tap = get_codec(fmt).usage_tap()
        tap.feed(SseEvent(b'{"usage": [1, 2]}'))
        tap.feed(SseEvent(b'{"usageMetadata": "x", "usage": null}'))
        tap.feed(SseEvent(b'not json "usage" "usageMetadata"'))
        tap.feed(SseEvent(b'{"choices": []}'))
        assert tap.usage is None, fmt


def test_usage_from_response_matches_decode():
    for path in golden.response_files():
        codec = get_codec(golden.fmt_of(path))
        assert (
            codec.usage_from_response(path.read_bytes())
            == codec.decode_response(path.read_bytes()).usage
        )
    assert get_codec(WireFormat.OPENAI_CHAT).usage_from_response(b'{"id": "x"}') is None


def test_anthropic_usage_convention():
    body = json.dumps(
        {
            "content": [],
            "stop_reason": "end_turn",
            "usage": {
                "input_tokens": 10,
                "cache_read_input_tokens": 100,
                "cache_creation_input_tokens": 5,
                "output_tokens": 7,
            },
        }
    ).encode()
    usage = get_codec(WireFormat.ANTHROPIC).decode_response(body).usage
    assert usage == c.Usage(
        input_tokens=115, output_tokens=7, cache_read_tokens=100, cache_write_tokens=5
    )
    openai = json.loads(
        get_codec(WireFormat.OPENAI_CHAT).encode_response(c.CanonResponse(usage=usage), [])
    )
    assert openai["usage"]["prompt_tokens"] == 115
    assert openai["usage"]["prompt_tokens_details"] == {
        "cached_tokens": 100,
        "cache_write_tokens": 5,
    }


def test_keepalives_are_silent_for_clients():
    for fmt in WireFormat:
        raw = get_codec(fmt).keepalive()
        events = SseParser().feed(raw)
        if fmt == WireFormat.ANTHROPIC:
            assert [e.event for e in events] == ["ping"]
            assert (
                golden.last_error(golden.decode_events(fmt, events)).status == 502
            )  # nothing but a ping
        else:
            assert events == []


def test_response_events_replay_a_response():
    resp = c.CanonResponse(
        id="r",
        model="m",
        stop_reason="tool_use",
        usage=c.Usage(1, 2),
        content=[
            c.Reasoning("t", c.OpaqueState(WireFormat.ANTHROPIC, "sig")),
            c.Reasoning(""),
            c.Text("hi"),
            c.ToolCall("c1", "f", '{"a": 1}'),
            c.Image(url="ignored"),
        ],
    )
    again = golden.accumulate(ev.response_events(resp))
    assert again.content == resp.content[:4]
    assert (again.stop_reason, again.usage, again.id) == ("tool_use", c.Usage(1, 2), "r")
    failed = c.CanonResponse(error=c.ErrorInfo("bad", 502, "upstream"))
    events = ev.response_events(failed)
    assert isinstance(events[-1], ev.StreamError)


def test_accumulator_ignores_mismatched_deltas():
    acc = ev.Accumulator()
    acc.feed_all(
        [
            ev.MessageStart("i", "m", 5, c.Usage(3)),
            ev.BlockStart(0, c.Text("")),
            ev.ArgumentsDelta(0, "x"),
            ev.TextDelta(7, "lost"),
            ev.MessageDelta(None, "STOP", None),
        ]
    )
    resp = acc.result()
    assert resp.content == [c.Text("")]
    assert resp.usage == c.Usage(3)
    assert resp.stop_sequence == "STOP"
    assert resp.created == 5


def test_image_urls_and_losses():
    assert c.Image.from_url("data:image/gif;base64,R0lG") == c.Image(
        data="R0lG", media_type="image/gif"
    )
    assert c.Image.from_url("data:text/plain,hi") == c.Image(url="data:text/plain,hi")
    assert c.Image(data="AA").as_url() == "data:image/png;base64,AA"
    losses: list[c.Loss] = []
    for _ in range(2):
        c.loss(losses, "f", WireFormat.GEMINI, WireFormat.ANTHROPIC, "why")
    assert len(losses) == 1
    assert c.Usage(2, 3).total_tokens == 5


STOPS: list[c.StopReason] = [
    "end",
    "length",
    "tool_use",
    "stop_sequence",
    "content_filter",
    "refusal",
    "pause",
]
# what each format reads back after writing a stop reason (a call is present for tool_use)
READ_BACK = {
    WireFormat.OPENAI_CHAT: [
        "end",
        "length",
        "tool_use",
        "end",
        "content_filter",
        "content_filter",
        "end",
    ],
    WireFormat.OPENAI_RESPONSES: [
        "end",
        "length",
        "tool_use",
        "end",
        "content_filter",
        "content_filter",
        "end",
    ],
    WireFormat.ANTHROPIC: [
        "end",
        "length",
        "tool_use",
        "stop_sequence",
        "refusal",
        "refusal",
        "pause",
    ],
    WireFormat.GEMINI: [
        "end",
        "length",
        "tool_use",
        "end",
        "content_filter",
        "content_filter",
        "end",
    ],
}


@pytest.mark.parametrize("fmt", list(WireFormat))
def test_stop_reasons_both_ways(fmt):
    codec = get_codec(fmt)
    for stop, expected in zip(STOPS, READ_BACK[fmt], strict=True):
        content: list[c.Block] = (
            [c.ToolCall("k", "f", "{}")] if stop == "tool_use" else [c.Text("x")]
        )
        resp = c.CanonResponse(id="r", content=content, stop_reason=stop)
        assert codec.decode_response(codec.encode_response(resp, [])).stop_reason == expected, stop
        streamed = golden.accumulate(
            golden.decode_events(
                fmt,
                golden.wire_roundtrip(fmt, golden.encode_events_to(fmt, ev.response_events(resp))),
            )
        )
        assert streamed.stop_reason == expected, stop


def test_coalesced_joins_each_run_of_deltas_to_one_block():
    events: list[ev.Event] = [
        ev.MessageStart("m1"),
        ev.BlockStart(0, c.Reasoning()),
        ev.ReasoningDelta(0, "th"),
        ev.ReasoningDelta(0, "ink"),
        ev.BlockStop(0),
        ev.BlockStart(1, c.Text("")),
        ev.TextDelta(1, "a"),
        ev.TextDelta(1, "b"),
        ev.TextDelta(1, "c"),
        ev.BlockStart(2, c.ToolCall("t", "f", "")),
        ev.ArgumentsDelta(2, '{"x"'),
        ev.ArgumentsDelta(2, ":1}"),
        ev.TextDelta(1, "d"),  # another block in between: a run of its own
        ev.ReasoningDelta(1, "e"),  # same block, another kind: not joined to the text
        ev.MessageDelta("end"),
    ]
    assert ev.coalesced(events) == [
        ev.MessageStart("m1"),
        ev.BlockStart(0, c.Reasoning()),
        ev.ReasoningDelta(0, "think"),
        ev.BlockStop(0),
        ev.BlockStart(1, c.Text("")),
        ev.TextDelta(1, "abc"),
        ev.BlockStart(2, c.ToolCall("t", "f", "")),
        ev.ArgumentsDelta(2, '{"x":1}'),
        ev.TextDelta(1, "d"),
        ev.ReasoningDelta(1, "e"),
        ev.MessageDelta("end"),
    ]
    lone: list[ev.Event] = [ev.TextDelta(0, "a"), ev.BlockStop(0)]
    assert ev.coalesced(lone) == lone
    assert ev.coalesced(lone)[0] is lone[0]  # nothing to join: the same event goes on


@pytest.mark.parametrize("fmt", list(WireFormat))
def test_a_coalesced_stream_folds_to_the_same_response(fmt):
    """Joining runs changes how many events carry the text, never what they fold to."""
    pieces = ["Hel", "lo, ", "wor", "ld"]
    events: list[ev.Event] = [ev.MessageStart("m1"), ev.BlockStart(0, c.Text(""))]
    events += [ev.TextDelta(0, p) for p in pieces]
    events += [ev.BlockStop(0), ev.MessageDelta("end", usage=c.Usage(3, 4)), ev.MessageStop()]
    whole, joined = ev.Accumulator(), ev.Accumulator()
    whole.feed_all(events)
    joined.feed_all(ev.coalesced(events))
    assert joined.result() == whole.result()
    encoder = get_codec(fmt).stream_encoder("m")
    wire = [e for event in ev.coalesced(events) for e in encoder.feed(event)]
    wire += encoder.close()
    decoder = get_codec(fmt).stream_decoder()
    back = ev.Accumulator()
    back.feed_all([e for sse in wire for e in decoder.feed(sse)] + decoder.close())
    assert [b.text for b in back.result().content if isinstance(b, c.Text)] == ["Hello, world"]
