"""Claude Code and Codex request shapes converted to every upstream format."""

from __future__ import annotations

import json
from typing import Any

from octopus.protocols import WireFormat, get_codec
from octopus.protocols import canonical as c
from tests.protocols import golden
from tests.protocols.agents import CLAUDE_CODE, CODEX, body

A, G, OC, OR = (
    WireFormat.ANTHROPIC,
    WireFormat.GEMINI,
    WireFormat.OPENAI_CHAT,
    WireFormat.OPENAI_RESPONSES,
)


def _convert(
    source: WireFormat, shape: dict[str, Any], target: WireFormat
) -> tuple[c.CanonRequest, dict[str, Any], set[str]]:
    req = get_codec(source).decode_request(body(shape))
    losses: list[c.Loss] = []
    out = json.loads(get_codec(target).encode_request(req, losses))
    return req, out, {loss.field for loss in losses}


def test_claude_code_decodes():
    req = get_codec(A).decode_request(body(CLAUDE_CODE))
    assert req.stream is True
    assert [m.role for m in req.messages] == ["user", "system", "assistant", "user", "system"]
    assert req.reasoning == c.ReasoningConfig(effort="high", budget=-1, include_thoughts=False)
    assert req.tools[1].defer_loading is True
    assert req.system[1].cache is True
    assert req.user == CLAUDE_CODE["metadata"]["user_id"]
    assert set(req.extras) == {"metadata", "context_management", "output_config"}


def test_claude_code_to_openai_chat():
    _, out, losses = _convert(A, CLAUDE_CODE, OC)
    roles = [m["role"] for m in out["messages"]]
    assert roles == ["system", "user", "system", "assistant", "tool", "tool", "system"]
    assert out["messages"][0]["content"].startswith("x-anthropic-billing-header")
    assert out["messages"][2]["content"] == "Environment: cwd=/repo"
    assistant = out["messages"][3]
    assert "reasoning_content" not in assistant
    assert [t["id"] for t in assistant["tool_calls"]] == ["toolu_01", "toolu_02"]
    assert out["messages"][5] == {
        "role": "tool",
        "tool_call_id": "toolu_02",
        "content": "Error: permission denied",
    }
    assert out["reasoning_effort"] == "high"
    assert out["max_completion_tokens"] == 32000
    bash = out["tools"][0]["function"]["parameters"]
    assert "$schema" not in bash
    assert "defer_loading" not in json.dumps(out["tools"])
    assert "cache_control" not in json.dumps(out)
    assert out["stream_options"] == {"include_usage": True}
    assert {"cache_control", "tools.defer_loading", "reasoning.opaque", "reasoning.text"} <= losses
    assert "context_management" not in out
    assert "output_config" not in out


def test_claude_code_to_responses():
    _, out, losses = _convert(A, CLAUDE_CODE, OR)
    assert out["instructions"].startswith("x-anthropic-billing-header")
    kinds = [(i["type"], i.get("role")) for i in out["input"]]
    assert kinds == [
        ("message", "user"),
        ("message", "developer"),
        ("message", "assistant"),
        ("function_call", None),
        ("function_call", None),
        ("function_call_output", None),
        ("function_call_output", None),
        ("message", "developer"),
    ]
    assert out["input"][6]["output"] == "Error: permission denied"
    assert out["reasoning"] == {"effort": "high"}
    assert out["store"] is False
    assert all(t["strict"] is False for t in out["tools"])
    assert "reasoning.opaque" in losses


def test_claude_code_to_gemini():
    _, out, losses = _convert(A, CLAUDE_CODE, G)
    system = [p["text"] for p in out["systemInstruction"]["parts"]]
    assert "Environment: cwd=/repo" in system
    assert "Turn 2 environment" in system
    assert [x["role"] for x in out["contents"]] == ["user", "model", "user"]
    model_parts = out["contents"][1]["parts"]
    calls = [p for p in model_parts if "functionCall" in p]
    assert calls[0]["thoughtSignature"] == "skip_thought_signature_validator"
    assert "thoughtSignature" not in calls[1]
    responses = [p["functionResponse"] for p in out["contents"][2]["parts"]]
    assert responses == [
        {"name": "Bash", "response": {"result": "a.txt\nb.txt"}},
        {"name": "Bash", "response": {"error": "permission denied"}},
    ]
    params = out["tools"][0]["functionDeclarations"][0]["parameters"]
    assert "$schema" not in params
    assert "additionalProperties" not in params
    assert "exclusiveMinimum" not in params["properties"]["timeout"]
    assert "parameters" not in out["tools"][0]["functionDeclarations"][1]
    assert out["generationConfig"]["thinkingConfig"] == {
        "thinkingBudget": -1,
        "includeThoughts": False,
    }
    assert out["generationConfig"]["maxOutputTokens"] == 32000
    assert {"cache_control", "tools.anthropic_hints", "reasoning.opaque"} <= losses


def test_claude_code_to_anthropic_keeps_everything():
    req, out, losses = _convert(A, CLAUDE_CODE, A)
    assert losses == set()
    assert [m["role"] for m in out["messages"]] == ["user", "system", "assistant", "user", "system"]
    assert out["thinking"] == {"type": "adaptive", "display": "omitted"}
    assert out["output_config"] == {"effort": "high"}
    assert out["context_management"] == CLAUDE_CODE["context_management"]
    assert out["messages"][2]["content"][:2] == CLAUDE_CODE["messages"][2]["content"][:2]
    assert out["tools"][1]["defer_loading"] is True
    assert out["system"][1]["cache_control"] == {"type": "ephemeral"}
    assert get_codec(A).decode_request(json.dumps(out).encode()) == req


def test_codex_decodes():
    req = get_codec(OR).decode_request(body(CODEX))
    assert [m.role for m in req.messages] == [
        "system",
        "system",
        "user",
        "user",
        "assistant",
        "user",
    ]
    assistant = req.messages[4].content
    assert assistant[0] == c.Reasoning("Need ls", c.OpaqueState(OR, "gAAAAencrypted", id="rs_1"))
    assert assistant[1] == c.ToolCall("call_1", "exec_command", '{"cmd":"ls"}')
    assert [t.name for t in req.tools] == ["exec_command", "spawn_agent"]
    assert {loss.field for loss in req.losses} == {"tools.web_search"}
    assert req.reasoning == c.ReasoningConfig(summary="auto", include_thoughts=True)
    assert req.cache_key == "session-1"
    assert set(req.extras) == {"store", "include", "client_metadata"}


def test_codex_to_openai_chat():
    _, out, losses = _convert(OR, CODEX, OC)
    assert [m["role"] for m in out["messages"]] == [
        "system",
        "system",
        "user",
        "user",
        "assistant",
        "tool",
    ]
    assert out["messages"][4]["tool_calls"][0]["id"] == "call_1"
    assert "reasoning_content" not in out["messages"][4]
    assert out["messages"][5]["tool_call_id"] == "call_1"
    assert [t["function"]["name"] for t in out["tools"]] == ["exec_command", "spawn_agent"]
    assert out["prompt_cache_key"] == "session-1"
    assert "store" not in out
    assert "include" not in out
    assert "reasoning.opaque" in losses


def test_codex_to_anthropic():
    _, out, losses = _convert(OR, CODEX, A)
    assert [s["text"] for s in out["system"]] == ["You are Codex.", "Skills: none"]
    assert [m["role"] for m in out["messages"]] == ["user", "assistant", "user"]
    assert len(out["messages"][0]["content"]) == 2  # two user items merged into one turn
    assert out["messages"][1]["content"] == [
        {"type": "tool_use", "id": "call_1", "name": "exec_command", "input": {"cmd": "ls"}}
    ]
    assert out["messages"][2]["content"][0]["tool_use_id"] == "call_1"
    assert out["max_tokens"] == 8192
    assert "thinking" not in out  # summary only, no effort: nothing to budget
    assert {"reasoning.opaque", "prompt_cache_key"} <= losses


def test_codex_to_gemini():
    _, out, _ = _convert(OR, CODEX, G)
    assert [p["text"] for p in out["systemInstruction"]["parts"]] == [
        "You are Codex.",
        "Skills: none",
    ]
    call = out["contents"][1]["parts"][0]
    assert call["functionCall"] == {"name": "exec_command", "args": {"cmd": "ls"}}
    response = out["contents"][2]["parts"][0]["functionResponse"]
    assert response["name"] == "exec_command"
    assert response["response"]["result"].startswith("Chunk ID: 1")
    assert out["generationConfig"]["thinkingConfig"] == {"includeThoughts": True}


def test_codex_to_responses_keeps_stateless_shape():
    _, out, losses = _convert(OR, CODEX, OR)
    assert losses == set()
    assert out["store"] is False
    assert out["include"] == ["reasoning.encrypted_content"]
    assert out["client_metadata"] == {"session_id": "session-1"}
    assert out["reasoning"] == {"summary": "auto"}
    reasoning = out["input"][4]
    assert reasoning == {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [{"type": "summary_text", "text": "Need ls"}],
        "encrypted_content": "gAAAAencrypted",
    }
    assert out["input"][5]["call_id"] == "call_1"
    assert [i["role"] for i in out["input"][:2]] == ["developer", "developer"]


def test_codex_fixture_request_roundtrips_through_every_format():
    path = golden.ROOT / "openai-responses/axonhub__tool.request.json"
    req = get_codec(OR).decode_request(path.read_bytes())
    for target in WireFormat:
        raw = get_codec(target).encode_request(req, [])
        back = get_codec(target).decode_request(raw, model=req.model, stream=False)
        results = [b for m in back.messages for b in m.content if isinstance(b, c.ToolResult)]
        calls = [b for m in back.messages for b in m.content if isinstance(b, c.ToolCall)]
        assert [r.call_id for r in results] == [k.id for k in calls], target
