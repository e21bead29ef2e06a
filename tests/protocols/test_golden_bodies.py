"""Golden request/response/error bodies: same-format round trips and every cross-format trip."""

from __future__ import annotations

import json
import re
from typing import Any

from octopus.errors import ErrorKind, GatewayError, UpstreamStatus
from octopus.protocols import WireFormat, get_codec
from octopus.protocols import canonical as c
from tests.protocols import golden

A, G, OC, OR = (
    WireFormat.ANTHROPIC,
    WireFormat.GEMINI,
    WireFormat.OPENAI_CHAT,
    WireFormat.OPENAI_RESPONSES,
)


def _args(raw: Any) -> Any:
    return json.loads(raw) if isinstance(raw, str) else raw


def project(fmt: WireFormat, body: Any) -> dict[str, Any]:
    """The parts of a response body every codec must keep, read straight from the JSON."""
    calls: list[tuple[Any, ...]]
    usage: tuple[Any, ...]
    if fmt == OC:
        msg = body["choices"][0]["message"]
        calls = [
            (t["function"]["name"], _args(t["function"]["arguments"]))
            for t in msg.get("tool_calls") or []
        ]
        u = body["usage"]
        usage = (u["prompt_tokens"], u["completion_tokens"])
        return {
            "text": msg.get("content") or "",
            "calls": calls,
            "stop": body["choices"][0]["finish_reason"],
            "usage": usage,
        }
    if fmt == A:
        blocks = body["content"]
        calls = [(b["name"], b["input"]) for b in blocks if b["type"] == "tool_use"]
        text = "".join(b["text"] for b in blocks if b["type"] == "text")
        thinking = [
            (b["thinking"], b.get("signature") or "") for b in blocks if b["type"] == "thinking"
        ]
        u = body["usage"]
        usage = (u["input_tokens"], u["output_tokens"], u.get("cache_read_input_tokens", 0))
        return {
            "text": text,
            "calls": calls,
            "thinking": thinking,
            "stop": body["stop_reason"],
            "usage": usage,
        }
    if fmt == OR:
        out = body["output"]
        calls = [
            (o["name"], _args(o["arguments"]), o["call_id"])
            for o in out
            if o["type"] == "function_call"
        ]
        text = "".join(p["text"] for o in out if o["type"] == "message" for p in o["content"])
        reasoning = [
            (o.get("encrypted_content"), [s["text"] for s in o["summary"]])
            for o in out
            if o["type"] == "reasoning"
        ]
        u = body["usage"]
        return {
            "text": text,
            "calls": calls,
            "reasoning": reasoning,
            "status": body["status"],
            "usage": (u["input_tokens"], u["output_tokens"]),
        }
    parts = body["candidates"][0]["content"]["parts"]
    calls = [
        (p["functionCall"]["name"], p["functionCall"].get("args", {}))
        for p in parts
        if "functionCall" in p
    ]
    text = "".join(p.get("text", "") for p in parts if not p.get("thought"))
    signatures = [p["thoughtSignature"] for p in parts if "thoughtSignature" in p]
    u = body["usageMetadata"]
    usage = (u["promptTokenCount"], u.get("candidatesTokenCount"), u.get("thoughtsTokenCount"))
    return {
        "text": text,
        "calls": calls,
        "signatures": signatures,
        "stop": body["candidates"][0]["finishReason"],
        "usage": usage,
    }


def test_response_same_format_json(response_file):
    fmt = golden.fmt_of(response_file)
    codec = get_codec(fmt)
    original = json.loads(response_file.read_bytes())
    losses: list[c.Loss] = []
    again = json.loads(
        codec.encode_response(codec.decode_response(response_file.read_bytes()), losses)
    )
    assert project(fmt, again) == project(fmt, original)
    assert losses == []


def test_response_same_format_canonical(response_file):
    codec = get_codec(golden.fmt_of(response_file))
    resp = codec.decode_response(response_file.read_bytes())
    again = codec.decode_response(codec.encode_response(resp, []))
    if codec.format == G:  # call ids are minted per decode
        for a, b in zip(again.content, resp.content, strict=True):
            if isinstance(a, c.ToolCall) and isinstance(b, c.ToolCall):
                a.id = b.id
    assert again == resp


def test_response_cross_format(response_file, target):
    source = golden.fmt_of(response_file)
    resp = get_codec(source).decode_response(response_file.read_bytes())
    losses: list[c.Loss] = []
    body = get_codec(target).encode_response(resp, losses)
    back = get_codec(target).decode_response(body)
    assert golden.essentials(back) == golden.essentials(resp, via=target)
    opaque = [b.opaque for b in resp.content if isinstance(b, c.Reasoning) and b.opaque]
    if target != source and opaque:
        assert any(loss.field == "reasoning.opaque" for loss in losses)
        kept = [b.opaque for b in back.content if isinstance(b, c.Reasoning) and b.opaque]
        assert not any(o.origin == source or o.data in {x.data for x in opaque} for o in kept)


def _request_essentials(req: c.CanonRequest) -> dict[str, Any]:
    """What a request must keep across formats: conversation, instructions, tools."""
    instructions = [t.text for t in req.system]
    turns: list[tuple[str, Any]] = []
    for msg in req.messages:
        for block in msg.content:
            if msg.role == "system":
                instructions.append(c.text_of([block]) if isinstance(block, c.Text) else "")
            elif isinstance(block, c.Text) and block.text:
                turns.append((msg.role, block.text))
            elif isinstance(block, c.Image):
                turns.append((msg.role, block.as_url()))
            elif isinstance(block, c.ToolCall):
                turns.append(("call", (block.name, json.loads(block.arguments or "{}"))))
            elif isinstance(block, c.ToolResult):
                turns.append(("result", c.text_of(block.content)))
    tools = [(t.name, sorted(t.parameters.get("properties", {}))) for t in req.tools]
    return {
        "instructions": "\n\n".join(i for i in instructions if i),
        "turns": turns,
        "tools": tools,
        "choice": req.tool_choice,
        "max_tokens": req.sampling.max_output_tokens,
        "temperature": req.sampling.temperature,
    }


def _decode(fmt: WireFormat, body: bytes, model: str = "m", stream: bool = False) -> c.CanonRequest:
    if fmt == G:
        return get_codec(fmt).decode_request(body, model=model, stream=stream)
    return get_codec(fmt).decode_request(body)


def test_request_same_format(request_file):
    fmt = golden.fmt_of(request_file)
    original = json.loads(request_file.read_bytes())
    req = _decode(fmt, request_file.read_bytes())
    body = get_codec(fmt).encode_request(req, [])
    again = _decode(fmt, body, req.model, req.stream)
    assert again == req
    assert set(original) <= set(json.loads(body)), "extras must return to their own format"


def test_request_cross_format(request_file, target):
    source = golden.fmt_of(request_file)
    req = _decode(source, request_file.read_bytes())
    losses: list[c.Loss] = []
    body = get_codec(target).encode_request(req, losses)
    back = _decode(target, body, req.model, req.stream)
    expected = _request_essentials(req)
    if target == A and expected["max_tokens"] is None:
        expected["max_tokens"] = 8192
    assert _request_essentials(back) == expected
    assert all(loss.target == target for loss in losses)


def _status_of(path) -> int:
    match = re.search(r"-(\d{3})-", path.name)
    if match:
        return int(match.group(1))
    body = json.loads(path.read_bytes())
    code = body["error"].get("code")
    return code if isinstance(code, int) else (429 if "quota" in str(code) else 400)


def _error_fmt(path) -> WireFormat:
    if path.parent.name != "errors":
        return golden.fmt_of(path)
    return {"anthropic": A, "gemini": G, "openai": OC}[path.name.split("-")[0]]


def test_error_body_is_classified(error_file):
    fmt, status = _error_fmt(error_file), _status_of(error_file)
    err = get_codec(fmt).decode_error(status, error_file.read_bytes())
    assert isinstance(err, UpstreamStatus)
    assert err.status == status
    assert err.body == error_file.read_bytes()
    message = json.loads(error_file.read_bytes())["error"]["message"]
    assert err.message == message
    expected_kind = {
        400: ErrorKind.INVALID_REQUEST,
        429: ErrorKind.RATE_LIMIT,
        503: ErrorKind.OVERLOADED,
        529: ErrorKind.OVERLOADED,
    }
    assert err.kind == expected_kind[status]
    assert err.retryable == (status >= 429)


def test_upstream_error_reaches_every_client_with_its_status(error_file, target):
    err = get_codec(_error_fmt(error_file)).decode_error(
        _status_of(error_file), error_file.read_bytes()
    )
    status, body = get_codec(target).encode_error(err)
    expected = 503 if err.status == 529 and target != A else err.status
    assert status == expected
    parsed = json.loads(body)
    assert err.message in json.dumps(parsed["error"], ensure_ascii=False) or err.message in str(
        parsed
    )
    assert isinstance(err, GatewayError)
