"""Gemini codec edge cases the recorded fixtures do not reach."""

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
