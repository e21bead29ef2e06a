"""Anthropic codec edge cases the recorded fixtures do not reach."""

from __future__ import annotations

import json

from octopus.protocols import WireFormat, get_codec
from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from tests.protocols import golden
from tests.protocols.golden import decode, encode, sse

A, G, OC, OR = (
    WireFormat.ANTHROPIC,
    WireFormat.GEMINI,
    WireFormat.OPENAI_CHAT,
    WireFormat.OPENAI_RESPONSES,
)


# Anthropic ------------------------------------------------------------------------------------


def test_anthropic_stream_edge_events():
    events = golden.decode_events(
        A,
        sse(
            A,
            {
                "type": "message_start",
                "message": {"id": "m1", "model": "x", "usage": {"input_tokens": 5}},
            },
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "redacted_thinking", "data": "R"},
            },
            {"type": "content_block_stop", "index": 0},
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {"type": "text", "text": "Hi"},
            },
            {"type": "content_block_delta", "index": 1, "delta": {"type": "citations_delta"}},
            {
                "type": "content_block_delta",
                "index": 9,
                "delta": {"type": "text_delta", "text": "?"},
            },
            {"type": "content_block_stop", "index": 9},
            {"type": "content_block_stop", "index": 1},
            {
                "type": "content_block_start",
                "index": 2,
                "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}},
            },
            {"type": "content_block_start"},
            {"type": "content_block_stop", "index": 2},
            {"type": "message_delta", "delta": {}},
            {"type": "message_stop"},
        ),
    )
    resp = golden.accumulate(events)
    assert resp.content == [
        c.Reasoning("", c.OpaqueState(A, "R", redacted=True)),
        c.Text("Hi"),
        c.ToolCall("t", "f", '{"a":1}'),
    ]
    assert resp.stop_reason == "end"
    assert resp.usage.input_tokens == 5
    # message_delta with a stop reason, then the stream just ends: Claude Code accepts this
    ended = golden.decode_events(
        A,
        sse(
            A,
            {"type": "message_start", "message": {"id": "m"}},
            {
                "type": "message_delta",
                "delta": {"stop_reason": "max_tokens"},
                "usage": {"output_tokens": 3},
            },
        ),
    )
    assert isinstance(ended[-1], ev.MessageStop)
    assert golden.accumulate(ended).stop_reason == "length"


def test_anthropic_encoder_redacted_and_foreign_blocks():
    events: list[ev.Event] = [
        ev.MessageStart("m", "x"),
        ev.BlockStart(0, c.Reasoning("", c.OpaqueState(A, "R", redacted=True))),
        ev.OpaqueDelta(0, c.OpaqueState(A, "R", redacted=True)),
        ev.BlockStop(0),
        ev.BlockStart(1, c.Reasoning("", c.OpaqueState(G, "S", redacted=True))),
        ev.BlockStart(2, c.Image(url="u")),
        ev.TextDelta(5, "lost"),
        ev.BlockStop(5),
        ev.BlockStart(3, c.Reasoning()),
        ev.OpaqueDelta(3, c.OpaqueState(G, "S")),
        ev.MessageStop(),
    ]
    enc = get_codec(A).stream_encoder("m")
    out = [s for e in events for s in enc.feed(e)] + enc.close()
    bodies = [json.loads(s.data) for s in out]
    starts = [b["content_block"] for b in bodies if b["type"] == "content_block_start"]
    assert starts == [
        {"type": "redacted_thinking", "data": "R"},
        {"type": "thinking", "thinking": "", "signature": ""},
    ]
    assert [b["type"] for b in bodies].count(
        "content_block_stop"
    ) == 2  # the open block closed at the end
    assert {loss.field for loss in enc.losses} == {"reasoning.opaque"}


def test_anthropic_request_edges():
    body = {
        "model": "m",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "document", "source": {"type": "text", "data": "x"}},
                    {"type": "image", "source": {"type": "file", "file_id": "f"}},
                    {
                        "type": "tool_result",
                        "tool_use_id": "t",
                        "content": [
                            {"type": "text", "text": "see"},
                            {
                                "type": "image",
                                "source": {
                                    "type": "base64",
                                    "media_type": "image/png",
                                    "data": "AA",
                                },
                            },
                        ],
                    },
                ],
            },
        ],
        "tools": [
            {"name": "web_search", "type": "web_search_20250305"},
            {"name": "f", "type": "custom", "cache_control": {"type": "ephemeral"}},
        ],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
        "top_k": 3,
    }
    req = decode(A, body)
    assert {loss.field for loss in req.losses} == {
        "content.document",
        "content.image.source",
        "tools.web_search_20250305",
    }
    result = req.messages[0].content[0]
    assert isinstance(result, c.ToolResult)
    assert result.content == [
        c.Text("see"),
        c.Image(data="AA", media_type="image/png"),
    ]
    out, _ = encode(A, req)
    assert out["messages"][0]["content"][0]["content"][1]["type"] == "image"
    assert out["tools"] == [
        {
            "name": "f",
            "input_schema": {"type": "object", "properties": {}},
            "cache_control": {"type": "ephemeral"},
        }
    ]
    assert out["top_k"] == 3
    _openai, losses = encode(OC, req)
    assert "tool_result.image" in losses
    assert "cache_control" in losses
    responses, _ = encode(OR, req)
    assert responses["input"][0]["output"][1] == {
        "type": "input_image",
        "image_url": "data:image/png;base64,AA",
    }
    hint, _ = encode(
        A, decode(OC, {"model": "m", "messages": [], "response_format": {"type": "json_object"}})
    )
    assert hint["system"] == [{"type": "text", "text": "Respond with only a valid JSON object."}]
    none_choice, _ = encode(
        A,
        decode(
            OC,
            {
                "model": "m",
                "messages": [],
                "tools": [{"type": "function", "function": {"name": "f"}}],
                "tool_choice": "none",
                "parallel_tool_calls": False,
            },
        ),
    )
    assert none_choice["tool_choice"] == {"type": "none"}


def test_anthropic_tool_ids_are_made_safe():
    req = decode(
        OC,
        {
            "model": "m",
            "messages": [
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "functions.get:0",
                            "type": "function",
                            "function": {"name": "get", "arguments": "{broken"},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "functions.get:0", "content": "ok"},
            ],
        },
    )
    out, _ = encode(A, req)
    assert out["messages"][0]["content"][0] == {
        "type": "tool_use",
        "id": "functions_get_0",
        "name": "get",
        "input": {},
    }
    assert out["messages"][1]["content"][0]["tool_use_id"] == "functions_get_0"
