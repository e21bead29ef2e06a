"""Request mappings between formats: reasoning, structured output, tools, sampling, images."""

from __future__ import annotations

import json
from typing import Any

import pytest

from octopus.protocols import WireFormat, get_codec
from octopus.protocols import canonical as c

A, G, OC, OR = (
    WireFormat.ANTHROPIC,
    WireFormat.GEMINI,
    WireFormat.OPENAI_CHAT,
    WireFormat.OPENAI_RESPONSES,
)
SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "days": {"type": ["integer", "null"], "exclusiveMinimum": 0},
    },
    "required": ["city"],
    "additionalProperties": False,
}


def encode(target: WireFormat, req: c.CanonRequest) -> tuple[dict[str, Any], set[str]]:
    losses: list[c.Loss] = []
    out = json.loads(get_codec(target).encode_request(req, losses))
    return out, {loss.field for loss in losses}


def chat(**fields: Any) -> c.CanonRequest:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], **fields}
    return get_codec(OC).decode_request(json.dumps(body).encode())


def messages(**fields: Any) -> c.CanonRequest:
    body = {
        "model": "m",
        "max_tokens": 1000,
        "messages": [{"role": "user", "content": "hi"}],
        **fields,
    }
    return get_codec(A).decode_request(json.dumps(body).encode())


def gemini(**fields: Any) -> c.CanonRequest:
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], **fields}
    return get_codec(G).decode_request(json.dumps(body).encode(), model="gemini-x", stream=True)


@pytest.mark.parametrize(
    ("effort", "budget"), [("low", 4096), ("medium", 10240), ("high", 24576), ("minimal", 1024)]
)
def test_openai_effort_to_budgets(effort, budget):
    req = chat(reasoning_effort=effort)
    anthropic, _ = encode(A, req)
    assert anthropic["thinking"] == {"type": "enabled", "budget_tokens": budget}
    assert anthropic["max_tokens"] == budget + 8192  # no client max: room for thinking and answer
    assert encode(G, req)[0]["generationConfig"]["thinkingConfig"] == {"thinkingBudget": budget}
    assert encode(OR, req)[0]["reasoning"] == {"effort": effort}


def test_budget_is_clamped_below_an_explicit_max_tokens():
    anthropic, _ = encode(A, chat(reasoning_effort="high", max_completion_tokens=5000))
    assert anthropic["max_tokens"] == 5000
    assert anthropic["thinking"]["budget_tokens"] == 4999
    _, losses = encode(A, chat(reasoning_effort="high", max_completion_tokens=500))
    assert "reasoning.budget" in losses


@pytest.mark.parametrize(("budget", "effort"), [(2048, "low"), (8000, "medium"), (30000, "high")])
def test_anthropic_budget_to_effort(budget, effort):
    req = messages(thinking={"type": "enabled", "budget_tokens": budget}, max_tokens=40000)
    assert encode(OC, req)[0]["reasoning_effort"] == effort
    assert encode(OR, req)[0]["reasoning"] == {"effort": effort, "summary": "auto"}
    gen = encode(G, req)[0]["generationConfig"]
    assert gen["thinkingConfig"] == {"thinkingBudget": budget, "includeThoughts": True}


def test_adaptive_thinking_maps_to_dynamic_and_effort():
    req = messages(thinking={"type": "adaptive"}, output_config={"effort": "low"})
    assert encode(OC, req)[0]["reasoning_effort"] == "low"
    assert encode(G, req)[0]["generationConfig"]["thinkingConfig"]["thinkingBudget"] == -1
    assert encode(A, req)[0]["thinking"] == {"type": "adaptive"}
    adaptive_only = messages(thinking={"type": "adaptive"})
    assert "reasoning_effort" not in encode(OC, adaptive_only)[0]


def test_gemini_dynamic_thinking_becomes_a_medium_budget_for_anthropic():
    req = gemini(
        generationConfig={"thinkingConfig": {"thinkingBudget": -1, "includeThoughts": True}}
    )
    assert encode(A, req)[0]["thinking"] == {"type": "enabled", "budget_tokens": 10240}


def test_gemini_thinking_level():
    req = gemini(generationConfig={"thinkingConfig": {"thinkingLevel": "high"}})
    assert req.reasoning == c.ReasoningConfig(effort="high")
    assert encode(OC, req)[0]["reasoning_effort"] == "high"
    assert encode(A, req)[0]["thinking"]["budget_tokens"] == 24576
    assert encode(G, req)[0]["generationConfig"]["thinkingConfig"] == {"thinkingLevel": "high"}


def test_disabled_or_zero_thinking_sends_nothing_to_anthropic():
    assert "thinking" not in encode(A, messages(thinking={"type": "disabled"}))[0]
    assert (
        "thinking"
        not in encode(A, gemini(generationConfig={"thinkingConfig": {"thinkingBudget": 0}}))[0]
    )
    assert encode(OC, chat(reasoning_effort="none"))[0]["reasoning_effort"] == "none"


def test_thinking_forces_anthropic_sampling_rules():
    req = chat(reasoning_effort="low", temperature=0.2, top_p=0.5)
    req.sampling.top_k = 40
    out, losses = encode(A, req)
    assert "temperature" not in out
    assert "top_p" not in out
    assert "top_k" not in out
    assert "temperature" in losses
    hot, losses = encode(A, chat(temperature=1.7))
    assert hot["temperature"] == 1.0
    assert "temperature" in losses


def test_structured_output_everywhere():
    fmt = {
        "type": "json_schema",
        "json_schema": {"name": "weather", "schema": SCHEMA, "strict": True},
    }
    req = chat(response_format=fmt)
    assert encode(OC, req)[0]["response_format"] == fmt
    text = encode(OR, req)[0]["text"]["format"]
    assert text == {"type": "json_schema", "name": "weather", "schema": SCHEMA, "strict": True}
    gen = encode(G, req)[0]["generationConfig"]
    assert gen["responseMimeType"] == "application/json"
    assert gen["responseSchema"] == {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer", "nullable": True}},
        "required": ["city"],
    }
    anthropic, losses = encode(A, req)
    assert "response_format" in losses
    assert "JSON Schema" in anthropic["system"][-1]["text"]


def test_structured_output_comes_back_from_each_format():
    req = chat(response_format={"type": "json_object"})
    for target in (OC, OR, G):
        body = get_codec(target).encode_request(req, [])
        back = get_codec(target).decode_request(body, model="m")
        assert back.response_format == c.ResponseFormat("json_object"), target
    gem = gemini(
        generationConfig={
            "responseMimeType": "application/json",
            "responseSchema": {"type": "object"},
        }
    )
    assert gem.response_format == c.ResponseFormat("json_schema", "response", {"type": "object"})
    assert encode(OC, gem)[0]["response_format"]["json_schema"]["schema"] == {"type": "object"}


@pytest.mark.parametrize(
    ("choice", "anthropic", "gemini_mode", "responses"),
    [
        ("auto", {"type": "auto"}, {"mode": "AUTO"}, "auto"),
        ("none", {"type": "none"}, {"mode": "NONE"}, "none"),
        ("required", {"type": "any"}, {"mode": "ANY"}, "required"),
        (
            {"type": "function", "function": {"name": "f"}},
            {"type": "tool", "name": "f"},
            {"mode": "ANY", "allowedFunctionNames": ["f"]},
            {"type": "function", "name": "f"},
        ),
    ],
)
def test_tool_choice(choice, anthropic, gemini_mode, responses):
    tools = [{"type": "function", "function": {"name": "f", "parameters": SCHEMA}}]
    req = chat(tools=tools, tool_choice=choice)
    assert encode(A, req)[0]["tool_choice"] == anthropic
    assert encode(G, req)[0]["toolConfig"] == {"functionCallingConfig": gemini_mode}
    assert encode(OR, req)[0]["tool_choice"] == responses
    for target in WireFormat:
        back = get_codec(target).decode_request(
            get_codec(target).encode_request(req, []), model="m"
        )
        assert back.tool_choice == req.tool_choice, target


def test_parallel_tool_calls_false():
    tools = [{"type": "function", "function": {"name": "f"}}]
    req = chat(tools=tools, parallel_tool_calls=False)
    assert encode(A, req)[0]["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    assert encode(OR, req)[0]["parallel_tool_calls"] is False
    assert "parallel_tool_calls" in encode(G, req)[1]
    back = get_codec(A).decode_request(get_codec(A).encode_request(req, []))
    assert back.parallel_tool_calls is False


def test_tool_without_parameters_gets_an_object_schema():
    req = chat(tools=[{"type": "function", "function": {"name": "ping"}}])
    assert encode(A, req)[0]["tools"][0]["input_schema"] == {"type": "object", "properties": {}}
    assert encode(OR, req)[0]["tools"][0]["parameters"] == {"type": "object", "properties": {}}
    assert encode(G, req)[0]["tools"] == [{"functionDeclarations": [{"name": "ping"}]}]


def test_sampling_fields():
    req = chat(
        temperature=0.3,
        top_p=0.9,
        stop="END",
        max_completion_tokens=77,
        seed=4,
        presence_penalty=0.1,
    )
    anthropic, losses = encode(A, req)
    assert (anthropic["temperature"], anthropic["top_p"], anthropic["stop_sequences"]) == (
        0.3,
        0.9,
        ["END"],
    )
    assert anthropic["max_tokens"] == 77
    assert "seed/penalties" in losses
    gen = encode(G, req)[0]["generationConfig"]
    assert gen == {
        "temperature": 0.3,
        "topP": 0.9,
        "maxOutputTokens": 77,
        "stopSequences": ["END"],
        "seed": 4,
        "presencePenalty": 0.1,
    }
    responses, losses = encode(OR, req)
    assert responses["max_output_tokens"] == 77
    assert "stop" in losses
    topk = messages(top_k=5)
    assert encode(G, topk)[0]["generationConfig"]["topK"] == 5
    assert "top_k" in encode(OC, topk)[1]


def test_anthropic_requires_max_tokens():
    assert encode(A, chat())[0]["max_tokens"] == 8192


def test_legacy_max_tokens_stays_for_the_same_format():
    req = chat(max_tokens=50)
    out, _ = encode(OC, req)
    assert out["max_tokens"] == 50
    assert "max_completion_tokens" not in out
    assert encode(A, req)[0]["max_tokens"] == 50


def test_images_in_user_turns():
    content = [
        {"type": "text", "text": "what?"},
        {"type": "image_url", "image_url": {"url": "https://x.test/cat.png"}},
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,QUJD"}},
    ]
    req = get_codec(OC).decode_request(
        json.dumps({"model": "m", "messages": [{"role": "user", "content": content}]}).encode()
    )
    assert req.messages[0].content[1:] == [
        c.Image(url="https://x.test/cat.png"),
        c.Image(data="QUJD", media_type="image/jpeg"),
    ]
    anthropic = encode(A, req)[0]["messages"][0]["content"]
    assert anthropic[1]["source"] == {"type": "url", "url": "https://x.test/cat.png"}
    assert anthropic[2]["source"] == {"type": "base64", "media_type": "image/jpeg", "data": "QUJD"}
    parts = encode(G, req)[0]["contents"][0]["parts"]
    assert parts[1] == {"fileData": {"fileUri": "https://x.test/cat.png", "mimeType": "image/png"}}
    assert parts[2] == {"inlineData": {"mimeType": "image/jpeg", "data": "QUJD"}}
    responses = encode(OR, req)[0]["input"][0]["content"]
    assert responses[2] == {"type": "input_image", "image_url": "data:image/jpeg;base64,QUJD"}
    for target in WireFormat:
        back = get_codec(target).decode_request(
            get_codec(target).encode_request(req, []), model="m"
        )
        images = [(b.url, b.data) for b in back.messages[0].content if isinstance(b, c.Image)]
        assert images == [("https://x.test/cat.png", ""), ("", "QUJD")], target


def test_consecutive_tool_results_are_merged_for_anthropic_and_gemini():
    msgs = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "a", "arguments": "{}"}},
                {"id": "c2", "type": "function", "function": {"name": "b", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "c2", "content": "warm"},
        {"role": "user", "content": "thanks"},
    ]
    req = get_codec(OC).decode_request(json.dumps({"model": "m", "messages": msgs}).encode())
    assert [m.role for m in req.messages] == ["user", "assistant", "user", "user"]
    anthropic = encode(A, req)[0]["messages"]
    assert [m["role"] for m in anthropic] == ["user", "assistant", "user"]
    assert [b["type"] for b in anthropic[2]["content"]] == ["tool_result", "tool_result", "text"]
    contents = encode(G, req)[0]["contents"]
    assert [x["role"] for x in contents] == ["user", "model", "user"]
    assert [p["functionResponse"]["name"] for p in contents[2]["parts"][:2]] == ["a", "b"]
    assert contents[2]["parts"][2] == {"text": "thanks"}


def test_mid_conversation_system_message_from_openai():
    msgs = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "a"},
        {"role": "developer", "content": "now be verbose"},
        {"role": "user", "content": "b"},
    ]
    req = get_codec(OC).decode_request(json.dumps({"model": "m", "messages": msgs}).encode())
    assert req.system == [c.Text("be brief")]
    assert req.messages[1] == c.Message("system", [c.Text("now be verbose")])
    anthropic = encode(A, req)[0]
    assert [s["text"] for s in anthropic["system"]] == ["be brief", "now be verbose"]
    assert [m["role"] for m in anthropic["messages"]] == ["user"]
    assert encode(OR, req)[0]["input"][1]["role"] == "developer"


def test_signed_thinking_is_dropped_for_other_formats_with_a_loss():
    body = {
        "model": "m",
        "max_tokens": 100,
        "messages": [
            {"role": "user", "content": "q"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                    {"type": "text", "text": "a"},
                ],
            },
            {"role": "user", "content": "q2"},
        ],
    }
    req = get_codec(A).decode_request(json.dumps(body).encode())
    for target in (OC, OR, G):
        out, losses = encode(target, req)
        assert "reasoning.opaque" in losses, target
        assert "sig" not in json.dumps(out), target
    assert encode(A, req)[0]["messages"][1]["content"][0]["signature"] == "sig"


def test_unsigned_reasoning_is_not_replayed_to_anthropic():
    msgs = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a", "reasoning_content": "thoughts"},
        {"role": "user", "content": "q2"},
    ]
    req = get_codec(OC).decode_request(json.dumps({"model": "m", "messages": msgs}).encode())
    out, losses = encode(A, req)
    assert out["messages"][1]["content"] == [{"type": "text", "text": "a"}]
    assert "reasoning.text" in losses
    assert encode(OC, req)[0]["messages"][1]["reasoning_content"] == "thoughts"


def test_gemini_signatures_return_to_gemini_only():
    contents = [
        {"role": "user", "parts": [{"text": "q"}]},
        {
            "role": "model",
            "parts": [
                {"text": "thinking", "thought": True, "thoughtSignature": "T1"},
                {"functionCall": {"name": "f", "args": {"x": 1}}, "thoughtSignature": "S1"},
                {"text": "", "thoughtSignature": "S2"},
            ],
        },
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "f", "response": {"result": "ok"}}}],
        },
    ]
    req = gemini(contents=contents)
    model = req.messages[1].content
    assert model[0] == c.Reasoning("thinking", c.OpaqueState(G, "T1"))
    assert model[1] == c.Reasoning("", c.OpaqueState(G, "S1"))
    assert isinstance(model[2], c.ToolCall)
    result = req.messages[2].content[0]
    assert isinstance(result, c.ToolResult)
    assert result.call_id == model[2].id
    back, losses = encode(G, req)
    assert back["contents"] == contents
    assert losses == set()
    openai, losses = encode(OC, req)
    assert "reasoning.opaque" in losses
    assert "S1" not in json.dumps(openai)
