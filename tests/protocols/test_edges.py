"""Edge cases of each codec that the recorded fixtures do not reach."""

from __future__ import annotations

import json
from typing import Any

from octopus.core.sse import SseEvent
from octopus.protocols import WireFormat, get_codec
from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from tests.protocols import golden

A, G, OC, OR = (
    WireFormat.ANTHROPIC,
    WireFormat.GEMINI,
    WireFormat.OPENAI_CHAT,
    WireFormat.OPENAI_RESPONSES,
)


def sse(fmt: WireFormat, *payloads: dict[str, Any]) -> list[SseEvent]:
    named = fmt in (A, OR)
    return [SseEvent(json.dumps(p).encode(), p["type"] if named else "") for p in payloads]


def decode(fmt: WireFormat, body: dict[str, Any]) -> c.CanonRequest:
    return get_codec(fmt).decode_request(json.dumps(body).encode(), model="m")


def encode(fmt: WireFormat, req: c.CanonRequest) -> tuple[dict[str, Any], set[str]]:
    losses: list[c.Loss] = []
    out = json.loads(get_codec(fmt).encode_request(req, losses))
    return out, {loss.field for loss in losses}


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


# Gemini ---------------------------------------------------------------------------------------


def test_gemini_stream_edges():
    events = golden.decode_events(
        G,
        sse(
            G,
            {
                "candidates": [
                    {
                        "content": {
                            "parts": [{"text": "plan", "thought": True, "thoughtSignature": "T"}]
                        }
                    }
                ]
            },
            {
                "candidates": [
                    {"content": {"parts": [{"functionCall": {"name": "f", "willContinue": True}}]}}
                ]
            },
            {
                "candidates": [
                    {
                        "content": {
                            "parts": [
                                {
                                    "functionCall": {
                                        "partialArgs": [
                                            {"jsonPath": "$.a.b", "numberValue": 2},
                                            {"jsonPath": "$.a.c", "numberValue": 2.5},
                                            {"jsonPath": "$.ok", "boolValue": True},
                                            {"jsonPath": "$.none"},
                                            {"jsonPath": "$"},
                                            {"jsonPath": "$.ok.deeper", "stringValue": "x"},
                                            {
                                                "jsonPath": "$.s",
                                                "stringValue": "he",
                                                "willContinue": True,
                                            },
                                            {"jsonPath": "$.s", "stringValue": "llo"},
                                        ],
                                        "willContinue": True,
                                    }
                                }
                            ]
                        }
                    }
                ]
            },
            {"candidates": [{"content": {"parts": [{"functionCall": {}}]}}]},
            {
                "candidates": [
                    {
                        "content": {
                            "parts": [{"inlineData": {"mimeType": "image/png", "data": "AA"}}]
                        },
                        "finishReason": "STOP",
                    }
                ]
            },
            {"usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2}},
        ),
    )
    resp = golden.accumulate(events)
    assert resp.content[0] == c.Reasoning("plan", c.OpaqueState(G, "T"))
    call = resp.content[1]
    assert isinstance(call, c.ToolCall)
    assert json.loads(call.arguments) == {
        "a": {"b": 2, "c": 2.5},
        "ok": True,
        "none": None,
        "s": "hello",
    }
    assert resp.stop_reason == "tool_use"
    assert resp.usage.input_tokens == 4
    blocked = golden.decode_events(G, sse(G, {"promptFeedback": {"blockReason": "SAFETY"}}))
    assert golden.accumulate(blocked).stop_reason == "content_filter"
    body = json.dumps({"promptFeedback": {"blockReason": "OTHER"}}).encode()
    assert get_codec(G).decode_response(body).stop_reason == "content_filter"
    assert get_codec(G).decode_response(b"{}").stop_reason == "end"


def test_gemini_request_edges():
    body = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"fileData": {"fileUri": "gs://b/a.pdf", "mimeType": "application/pdf"}},
                    {"fileData": {"fileUri": "gs://b/a.png"}},
                ],
            },
            {
                "role": "model",
                "parts": [{"functionCall": {"id": "given", "name": "f", "args": {}}}],
            },
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"id": "given", "name": "f", "response": {"a": 1}}},
                    {"functionResponse": {"name": "g", "response": {"error": {"code": 1}}}},
                ],
            },
        ],
        "tools": [{"googleSearch": {}}],
        "toolConfig": {"functionCallingConfig": {"mode": "validated"}},
        "generationConfig": {"candidateCount": 1, "responseMimeType": "text/plain"},
        "safetySettings": [],
    }
    req = get_codec(G).decode_request(json.dumps(body).encode(), model="m")
    assert {loss.field for loss in req.losses} == {"parts.media", "tools.builtin"}
    assert req.tool_choice == c.ToolChoice("auto")
    results = req.messages[2].content
    assert results[0] == c.ToolResult("given", [c.Text('{"a":1}')], name="f")
    assert results[1] == c.ToolResult(
        "call_g", [c.Text('{"error":{"code":1}}')], is_error=True, name="g"
    )
    out, _ = encode(G, req)
    assert out["generationConfig"] == {"candidateCount": 1, "responseMimeType": "text/plain"}
    assert out["safetySettings"] == []
    assert out["contents"][2]["parts"][0]["functionResponse"]["response"] == {"a": 1}


def test_gemini_encoder_edges():
    req = decode(
        OC,
        {
            "model": "m",
            "messages": [
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": "a", "reasoning_content": "why"},
            ],
            "user": "u",
        },
    )
    out, losses = encode(G, req)
    assert out["contents"][1]["parts"] == [{"text": "a"}]
    assert {"reasoning.text", "user/prompt_cache_key"} <= losses
    resp = c.CanonResponse(content=[c.Reasoning("shown"), c.Reasoning("", c.OpaqueState(A, "x"))])
    losses2: list[c.Loss] = []
    body = json.loads(get_codec(G).encode_response(resp, losses2))
    assert body["candidates"][0]["content"]["parts"] == [{"text": "shown", "thought": True}]
    assert losses2[0].field == "reasoning.opaque"
    enc = get_codec(G).stream_encoder("m")
    assert enc.feed(ev.ArgumentsDelta(4, "{}")) == []
    assert enc.feed(ev.BlockStop(4)) == []
    tail = enc.feed(ev.OpaqueDelta(0, c.OpaqueState(OC, "x"))) + enc.close()
    assert json.loads(tail[-1].data)["candidates"][0]["finishReason"] == "STOP"


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
        "code": "upstream",
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


# Stragglers -----------------------------------------------------------------------------------


def test_decoders_ignore_events_after_the_end():
    chat = get_codec(OC).stream_decoder()
    assert chat.feed(SseEvent(b'{"id":"x","choices":[{"index":0,"delta":{"content":"a"}}]}'))
    done = chat.feed(SseEvent(b"[DONE]"))
    assert isinstance(done[-1], ev.MessageStop)
    assert isinstance(done[-2], ev.MessageDelta)
    assert chat.feed(SseEvent(b'{"id":"x"}')) == []
    assert chat.close() == []
    assert chat.feed(SseEvent(b"  ")) == []
    for fmt in (A, G, OR):
        dec = get_codec(fmt).stream_decoder()
        dec.feed(SseEvent(b"{oops", "message_start"))
        assert dec.feed(SseEvent(b'{"type":"ping"}', "ping")) == []
        assert dec.close() == []


def test_gemini_stream_stragglers():
    events = golden.decode_events(
        G,
        sse(
            G,
            {
                "candidates": [
                    {"content": {"parts": [{"text": "", "thought": True}, {"functionCall": {}}]}}
                ]
            },
            {"candidates": [{"content": {"parts": [{"text": "a"}]}, "finishReason": "MAX_TOKENS"}]},
            {"usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 1}},
        ),
    )
    assert events[-2] == ev.MessageDelta(usage=c.Usage(9, 1))
    assert golden.accumulate(events).stop_reason == "length"
    req = get_codec(G).decode_request(
        json.dumps(
            {
                "contents": [
                    {
                        "role": "user",
                        "parts": [
                            {"functionResponse": {"name": "f", "response": {"error": "denied"}}}
                        ],
                    },
                ]
            }
        ).encode(),
        model="m",
    )
    assert req.messages[0].content == [
        c.ToolResult("call_f", [c.Text("denied")], is_error=True, name="f")
    ]
    enc = get_codec(G).stream_encoder("m", include_usage=False)
    out = enc.feed(ev.BlockStart(0, c.ToolCall("k", "f", ""))) + enc.close()
    assert (
        json.loads(out[0].data)["candidates"][0]["content"]["parts"][0]["functionCall"]["name"]
        == "f"
    )
    assert "usageMetadata" not in json.loads(out[-1].data)


def test_error_sniffing_needs_a_real_error():
    assert (
        get_codec(OC).first_event_error(
            SseEvent(b'{"choices":[{"delta":{"content":"\\"error\\""}}]}')
        )
        is None
    )
    event = SseEvent(
        b'{"type":"response.output_text.delta","delta":"\\"error\\""}', "response.output_text.delta"
    )
    assert get_codec(OR).first_event_error(event) is None


def test_tool_result_skips_nested_non_content_blocks():
    req = decode(
        A,
        {
            "model": "m",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "t",
                            "content": [{"type": "tool_use", "id": "x", "name": "y", "input": {}}],
                        },
                    ],
                }
            ],
        },
    )
    assert req.messages[0].content == [c.ToolResult("t", [])]
