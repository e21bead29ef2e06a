"""OpenAI Responses request body ↔ CanonRequest (Codex's stateless store:false shape included)."""

from __future__ import annotations

from typing import Any, cast

from octopus.errors import BadRequest
from octopus.protocols import canonical as c
from octopus.protocols import jsonio, schema, thinking
from octopus.protocols.formats import WireFormat
from octopus.protocols.openai_responses import items as it
from octopus.protocols.openai_responses import wire as w

FMT = WireFormat.OPENAI_RESPONSES
# `text` stays in extras too (verbosity); everything unmapped is re-emitted to Responses only
CONSUMED = frozenset(
    {
        "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls",
        "temperature", "top_p", "max_output_tokens", "stream", "reasoning", "user",
        "prompt_cache_key",
    }
)  # fmt: skip
_EFFORTS = frozenset({"none", "minimal", "low", "medium", "high", "xhigh"})


def decode_request(
    body: bytes, *, model: str | None = None, stream: bool | None = None
) -> c.CanonRequest:
    raw = jsonio.client_body(body, w.Request, "responses request")
    req = c.CanonRequest(model=model or raw.model, origin=FMT, stream=bool(raw.stream))
    if stream is not None:
        req.stream = stream
    if raw.instructions:
        req.system.append(c.Text(raw.instructions))
    items = [w.Item(role="user", content=raw.input)] if isinstance(raw.input, str) else raw.input
    for item in items or []:
        _decode_item(item, req)
    req.tools = _decode_tools(raw.tools or [], req.losses)
    req.tool_choice = _decode_choice(raw.tool_choice, req.losses)
    req.parallel_tool_calls = raw.parallel_tool_calls
    req.sampling = c.Sampling(
        temperature=raw.temperature, top_p=raw.top_p, max_output_tokens=raw.max_output_tokens
    )
    req.reasoning = _decode_reasoning(raw.reasoning)
    req.response_format = _decode_format(raw.text)
    req.user = raw.user
    req.cache_key = raw.prompt_cache_key
    req.extras = jsonio.raw_extras(body, CONSUMED)
    return req


def _decode_item(item: w.Item, req: c.CanonRequest) -> None:
    kind = item.type or "message"
    if kind == "message":
        role = {"developer": "system"}.get(item.role or "user", item.role or "user")
        if role not in ("user", "assistant", "system"):
            raise BadRequest(f"unknown message role: {item.role!r}")
        blocks: list[c.Block] = list(it.decode_parts(item.content, req.losses))
        _add(req.messages, cast(c.Role, role), blocks)
    elif kind in ("function_call", "reasoning"):
        _add(req.messages, "assistant", it.decode_output([item], req.losses))
    elif kind == "function_call_output":
        content = it.decode_parts(item.output, req.losses)
        result = c.ToolResult(call_id=item.call_id or "", content=content)
        _add(req.messages, "user", [result], results_only=True)
    else:
        c.loss(req.losses, f"input.{kind}", FMT, FMT, "item type has no canonical form")


def _add(
    messages: list[c.Message], role: c.Role, blocks: list[c.Block], *, results_only: bool = False
) -> None:
    """Items are flat: calls join the assistant turn before them, outputs join each other."""
    last = messages[-1] if messages else None
    if last is not None and last.role == role and _joins(last, results_only):
        last.content.extend(blocks)
    else:
        messages.append(c.Message(role, blocks))


def _joins(last: c.Message, results_only: bool) -> bool:
    if last.role == "assistant":
        return True
    return results_only and all(isinstance(b, c.ToolResult) for b in last.content)


def _decode_tools(tools: list[w.Tool], losses: list[c.Loss]) -> list[c.Tool]:
    out: list[c.Tool] = []
    for tool in tools:
        if tool.type == "function" and tool.name:
            params = tool.parameters or {}
            out.append(c.Tool(tool.name, tool.description or "", params, tool.strict))
        elif tool.type == "namespace":
            # a namespace only groups functions: its members stand on their own elsewhere
            out.extend(_decode_tools(tool.tools or [], losses))
        else:
            c.loss(losses, f"tools.{tool.type}", FMT, FMT, "hosted tools cannot be converted")
    return out


def _decode_choice(choice: str | w.NamedChoice | None, losses: list[c.Loss]) -> c.ToolChoice | None:
    if choice is None:
        return None
    if isinstance(choice, str):
        if choice not in ("auto", "none", "required"):
            raise BadRequest(f"invalid tool_choice: {choice!r}")
        return c.ToolChoice(cast(Any, choice))
    if choice.type == "function" and choice.name:
        return c.ToolChoice("tool", choice.name)
    c.loss(losses, f"tool_choice.{choice.type}", FMT, FMT, "only function choices are carried")
    return c.ToolChoice("auto")


def _decode_reasoning(param: w.ReasoningParam | None) -> c.ReasoningConfig | None:
    if param is None or (param.effort is None and param.summary is None):
        return None
    if param.effort is not None and param.effort not in _EFFORTS:
        raise BadRequest(f"invalid reasoning.effort: {param.effort!r}")
    effort = cast(c.Effort | None, param.effort)
    return c.ReasoningConfig(
        effort=effort, summary=param.summary, include_thoughts=param.summary is not None
    )


def _decode_format(text: w.TextParam | None) -> c.ResponseFormat | None:
    fmt = text.format if text is not None else None
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return c.ResponseFormat("json_object")
    if fmt.type != "json_schema":
        raise BadRequest(f"invalid text.format type: {fmt.type!r}")
    return c.ResponseFormat(
        "json_schema", fmt.name or "", fmt.schema, fmt.strict, fmt.description or ""
    )


def encode_request(req: c.CanonRequest, losses: list[c.Loss]) -> bytes:
    out: dict[str, Any] = {"model": req.model, "input": _encode_input(req, losses)}
    if req.system:
        out["instructions"] = "\n\n".join(t.text for t in req.system)
    _encode_tools(req, out, losses)
    _encode_sampling(req, out, losses)
    reasoning = _encode_reasoning(req.reasoning)
    if reasoning:
        out["reasoning"] = reasoning
    if req.response_format is not None:
        out["text"] = {"format": _encode_format(req.response_format)}
    optional = (
        ("user", req.user),
        ("prompt_cache_key", req.cache_key),
        ("stream", req.stream or None),
    )
    out.update((k, v) for k, v in optional if v is not None)
    if req.origin == FMT:
        jsonio.merge_extras(out, req.extras)
    else:
        out["store"] = False  # the converted history is always complete: keep nothing at OpenAI
    return jsonio.encode(out)


def _encode_tools(req: c.CanonRequest, out: dict[str, Any], losses: list[c.Loss]) -> None:
    if req.tools:
        out["tools"] = [_encode_tool(t, req.origin, losses) for t in req.tools]
        if req.parallel_tool_calls is not None:
            out["parallel_tool_calls"] = req.parallel_tool_calls
    choice = req.tool_choice
    if choice is not None:
        named = {"type": "function", "name": choice.name}
        out["tool_choice"] = named if choice.mode == "tool" else choice.mode


def _encode_input(req: c.CanonRequest, losses: list[c.Loss]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for msg in req.messages:
        if msg.role == "assistant":
            out.extend(it.encode_output(msg.content, losses, history=req.origin))
            continue
        results = [b for b in msg.content if isinstance(b, c.ToolResult)]
        out.extend(it.encode_result(b) for b in results)
        rest = [b for b in msg.content if isinstance(b, c.Text | c.Image)]
        if any(getattr(b, "cache", False) for b in msg.content):
            c.loss(
                losses, "cache_control", req.origin, FMT, "prompt caching hints are Anthropic-only"
            )
        if rest:
            out.append(it.encode_message("developer" if msg.role == "system" else "user", rest))
    return out


def _encode_tool(tool: c.Tool, origin: WireFormat, losses: list[c.Loss]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "function", "name": tool.name}
    if tool.description:
        out["description"] = tool.description
    out["parameters"] = schema.for_openai(tool.parameters) or {"type": "object", "properties": {}}
    # Responses defaults to strict schemas, which most client schemas do not satisfy
    out["strict"] = bool(tool.strict)
    if tool.defer_loading:
        c.loss(losses, "tools.defer_loading", origin, FMT, "deferred loading is Anthropic-only")
    if tool.cache:
        c.loss(losses, "cache_control", origin, FMT, "prompt caching hints are Anthropic-only")
    return out


def _encode_sampling(req: c.CanonRequest, out: dict[str, Any], losses: list[c.Loss]) -> None:
    s = req.sampling
    if s.temperature is not None:
        out["temperature"] = s.temperature
    if s.top_p is not None:
        out["top_p"] = s.top_p
    if s.max_output_tokens is not None:
        out["max_output_tokens"] = s.max_output_tokens
    if s.stop:
        c.loss(losses, "stop", req.origin, FMT, "Responses has no stop sequences")
    if s.top_k is not None:
        c.loss(losses, "top_k", req.origin, FMT, "Responses has no top_k")
    if s.seed is not None or s.presence_penalty is not None or s.frequency_penalty is not None:
        c.loss(losses, "seed/penalties", req.origin, FMT, "Responses has no seed or penalties")


def _encode_reasoning(cfg: c.ReasoningConfig | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    effort = thinking.openai_effort(cfg)
    if effort is not None:
        out["effort"] = effort
    if cfg is not None and (cfg.summary or cfg.include_thoughts):
        out["summary"] = cfg.summary or "auto"
    return out


def _encode_format(fmt: c.ResponseFormat) -> dict[str, Any]:
    if fmt.type != "json_schema":
        return {"type": fmt.type}
    out: dict[str, Any] = {"type": "json_schema", "name": fmt.name or "response"}
    out["schema"] = fmt.schema or {}
    if fmt.strict is not None:
        out["strict"] = fmt.strict
    if fmt.description:
        out["description"] = fmt.description
    return out
