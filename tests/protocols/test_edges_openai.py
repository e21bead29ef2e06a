"""OpenAI Chat and Responses edge cases the recorded fixtures do not reach."""

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


# Responses ------------------------------------------------------------------------------------


def test_responses_stream_edges():
    events = golden.decode_events(
        OR,
        sse(
            OR,
            {
                "type": "response.created",
                "response": {"id": "resp_1", "model": "x", "created_at": 3},
            },
            {"type": "response.output_item.added", "output_index": 0, "item": {"type": "message"}},
            {
                "type": "response.refusal.delta",
                "output_index": 0,
                "content_index": 0,
                "delta": "no",
            },
            {
                "type": "response.content_part.added",
                "output_index": 0,
                "content_index": 0,
                "part": {"type": "refusal"},
            },
            {"type": "response.output_item.done", "output_index": 0, "item": {"type": "message"}},
            {
                "type": "response.output_item.added",
                "output_index": 1,
                "item": {
                    "type": "function_call",
                    "call_id": "c",
                    "name": "f",
                    "arguments": '{"a":1}',
                },
            },
            {"type": "response.function_call_arguments.delta", "output_index": 7, "delta": "x"},
            {
                "type": "response.output_item.done",
                "output_index": 1,
                "item": {"type": "function_call", "arguments": '{"a":1}'},
            },
            {
                "type": "response.output_item.added",
                "output_index": 2,
                "item": {"type": "function_call", "call_id": "d", "name": "g"},
            },
            {
                "type": "response.output_item.done",
                "output_index": 2,
                "item": {"type": "function_call", "arguments": "{}"},
            },
            {
                "type": "response.content_part.added",
                "output_index": 3,
                "content_index": 0,
                "part": {"type": "reasoning_text"},
            },
            {
                "type": "response.reasoning_text.delta",
                "output_index": 3,
                "content_index": 0,
                "delta": "hm",
            },
            {
                "type": "response.content_part.done",
                "output_index": 3,
                "content_index": 0,
                "part": {"type": "reasoning_text"},
            },
            {
                "type": "response.reasoning_summary_part.added",
                "output_index": 3,
                "summary_index": 0,
            },
            {"type": "response.output_item.done", "output_index": 3, "item": {"type": "reasoning"}},
            {
                "type": "response.output_item.done",
                "output_index": 4,
                "item": {"type": "reasoning", "id": "rs_9", "encrypted_content": "E"},
            },
            {
                "type": "response.incomplete",
                "response": {
                    "status": "incomplete",
                    "incomplete_details": {"reason": "content_filter"},
                },
            },
        ),
    )
    resp = golden.accumulate(events)
    assert resp.content == [
        c.Text("no"),
        c.ToolCall("c", "f", '{"a":1}'),
        c.ToolCall("d", "g", "{}"),
        c.Reasoning("hm"),
        c.Reasoning("", c.OpaqueState(OR, "E", id="rs_9")),
    ]
    assert resp.stop_reason == "content_filter"
    assert resp.usage == c.Usage()
    failed = golden.decode_events(
        OR,
        sse(
            OR,
            {
                "type": "response.failed",
                "response": {
                    "status": "failed",
                    "error": {"code": "server_error", "message": "boom"},
                },
            },
        ),
    )
    assert failed[0] == ev.MessageStart()
    assert golden.last_error(failed).message == "boom"


def test_responses_encoder_edges():
    enc = get_codec(OR).stream_encoder("m")
    out = []
    feed: list[ev.Event] = [
        ev.MessageStart("not-a-resp-id"),
        ev.BlockStart(0, c.Image(url="x")),
        ev.TextDelta(3, "x"),
        ev.ReasoningDelta(3, "x"),
        ev.ArgumentsDelta(3, "x"),
        ev.OpaqueDelta(3, c.OpaqueState(OR, "E")),
        ev.BlockStop(3),
        ev.BlockStart(1, c.Reasoning()),
        ev.OpaqueDelta(1, c.OpaqueState(OR, "", id="rs_up")),
        ev.BlockStart(2, c.ToolCall("c", "f", "")),
        ev.MessageDelta("length", None, None),
    ]
    for event in feed:
        out += enc.feed(event)
    out += enc.close()
    final = json.loads(out[-1].data)
    assert final["type"] == "response.incomplete"
    assert final["response"]["id"] == "resp_octopus"
    assert final["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert [o["id"] for o in final["response"]["output"]] == ["rs_up", "fc_c"]
    assert "encrypted_content" not in final["response"]["output"][0]


def test_responses_bodies_edges():
    body = {
        "id": "resp_x",
        "status": "failed",
        "output": [
            {
                "type": "message",
                "content": [
                    {"type": "refusal", "refusal": "nope"},
                    {"type": "input_file", "file_id": "f"},
                ],
            },
            {"type": "web_search_call", "id": "ws"},
        ],
        "error": {"code": "server_error"},
    }
    resp = get_codec(OR).decode_response(json.dumps(body).encode())
    assert resp.content == [c.Text("nope")]
    assert resp.stop_reason == "error"
    assert resp.error == c.ErrorInfo("server_error", 502, "upstream")
    again = json.loads(get_codec(OR).encode_response(resp, []))
    assert again["status"] == "failed"
    assert again["error"] == {
        "code": "server_error",
        "message": "server_error",
    }
    incomplete = {"status": "incomplete", "output": []}
    assert get_codec(OR).decode_response(json.dumps(incomplete).encode()).stop_reason == "length"
    req = get_codec(OR).decode_request(
        json.dumps(
            {
                "model": "m",
                "input": "hello",
                "tool_choice": {"type": "allowed_tools"},
                "text": {
                    "format": {"type": "json_schema", "name": "n", "schema": {}, "description": "d"}
                },
            }
        ).encode()
    )
    assert req.messages == [c.Message("user", [c.Text("hello")])]
    assert req.tool_choice == c.ToolChoice("auto")
    assert req.losses[0].field == "tool_choice.allowed_tools"
    out, _ = encode(OR, req)
    assert out["text"]["format"]["description"] == "d"
    odd = get_codec(OR).decode_request(
        json.dumps({"model": "m", "input": [{"type": "item_reference", "id": "x"}]}).encode()
    )
    assert odd.losses[0].field == "input.item_reference"


def test_responses_request_encoding_edges():
    req = decode(
        A,
        {
            "model": "m",
            "max_tokens": 10,
            "top_k": 2,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}
                    ],
                },
                {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": "t", "signature": "s"},
                        {"type": "text", "text": "a"},
                    ],
                },
            ],
            "tools": [
                {
                    "name": "f",
                    "input_schema": {"type": "object"},
                    "cache_control": {"type": "ephemeral"},
                    "defer_loading": True,
                }
            ],
        },
    )
    out, losses = encode(OR, req)
    assert {
        "cache_control",
        "top_k",
        "tools.defer_loading",
        "reasoning.opaque",
        "reasoning.text",
    } <= losses
    assert [i["role"] for i in out["input"]] == ["user", "assistant"]
    chat_req = decode(
        OC,
        {
            "model": "m",
            "messages": [{"role": "user", "content": "x"}],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "n", "schema": {}, "description": "d"},
            },
        },
    )
    assert encode(OC, chat_req)[0]["response_format"]["json_schema"]["description"] == "d"


# OpenAI Chat ----------------------------------------------------------------------------------


def test_chat_request_edges():
    req = decode(
        OC,
        {
            "model": "m",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "input_audio", "input_audio": {}},
                        {"type": "text", "text": "t"},
                    ],
                },
                {"role": "assistant", "content": [{"type": "text", "text": "a"}], "refusal": None},
                {"role": "function", "name": "legacy", "content": "r"},
            ],
            "tools": [{"type": "custom", "function": {"name": "c"}}],
            "top_k": 4,
        },
    )
    assert {loss.field for loss in req.losses} == {"content.input_audio", "tools.custom"}
    assert req.messages[2].content[0] == c.ToolResult("legacy", [c.Text("r")], name="legacy")
    assert encode(OC, req)[0]["top_k"] == 4


def test_chat_response_edges():
    body = {
        "id": "x",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "refusal": "I can't"},
                "finish_reason": "content_filter",
            }
        ],
    }
    resp = get_codec(OC).decode_response(json.dumps(body).encode())
    assert resp.content == [c.Text("I can't")]
    assert resp.stop_reason == "content_filter"
    empty = get_codec(OC).decode_response(b'{"id": "y", "choices": []}')
    assert empty.content == []
    assert empty.stop_reason is None
    out = json.loads(get_codec(OC).encode_response(c.CanonResponse(), []))
    assert out["choices"][0]["message"] == {"role": "assistant", "content": None}
    assert out["choices"][0]["finish_reason"] == "stop"
    assert out["created"] > 0


def test_chat_stream_encoder_ignores_unknown_blocks():
    enc = get_codec(OC).stream_encoder("m")
    assert enc.feed(ev.ArgumentsDelta(3, "x")) == []
    out = enc.feed(ev.BlockStart(0, c.Text(""))) + enc.close()
    assert json.loads(out[0].data)["choices"][0]["delta"] == {"role": "assistant", "content": ""}
