"""Anthropic Messages request body ↔ CanonRequest."""

from __future__ import annotations

from typing import Any, cast

from octopus.errors import BadRequest
from octopus.protocols import canonical as c
from octopus.protocols import jsonio, schema, thinking
from octopus.protocols.anthropic_messages import wire as w
from octopus.protocols.anthropic_messages.blocks import EPHEMERAL, decode_blocks, encode_block
from octopus.protocols.formats import WireFormat

FMT = WireFormat.ANTHROPIC
DEFAULT_MAX_TOKENS = 8192
MIN_BUDGET = 1024
# output_config and metadata are read but stay in extras: Anthropic-to-Anthropic keeps all of them
CONSUMED = frozenset(
    {
        "model", "messages", "max_tokens", "system", "tools", "tool_choice", "temperature",
        "top_p", "top_k", "stop_sequences", "stream", "thinking",
    }
)  # fmt: skip
_EFFORTS = {"low": "low", "medium": "medium", "high": "high", "max": "max"}
_CHOICES = {"auto": "auto", "any": "required", "tool": "tool", "none": "none"}


def decode_request(
    body: bytes, *, model: str | None = None, stream: bool | None = None
) -> c.CanonRequest:
    raw = jsonio.client_body(body, w.Request, "messages request")
    req = c.CanonRequest(model=model or raw.model, origin=FMT, stream=bool(raw.stream))
    if stream is not None:
        req.stream = stream
    system = decode_blocks(raw.system, req.losses)
    req.system = [b for b in system if isinstance(b, c.Text)]
    for msg in raw.messages:
        if msg.role not in ("user", "assistant", "system"):
            raise BadRequest(f"unknown message role: {msg.role!r}")
        role = cast(c.Role, msg.role)
        req.messages.append(c.Message(role, decode_blocks(msg.content, req.losses)))
    req.tools = [t for t in (_decode_tool(t, req.losses) for t in raw.tools or []) if t]
    _decode_choice(raw.tool_choice, req)
    req.sampling = c.Sampling(
        temperature=raw.temperature,
        top_p=raw.top_p,
        top_k=raw.top_k,
        max_output_tokens=raw.max_tokens,
        stop=list(raw.stop_sequences or []),
    )
    req.reasoning = _decode_thinking(raw.thinking, raw.output_config)
    req.user = raw.metadata.user_id if raw.metadata is not None else None
    req.extras = jsonio.raw_extras(body, CONSUMED)
    return req


def _decode_tool(tool: w.Tool, losses: list[c.Loss]) -> c.Tool | None:
    if tool.type not in (None, "custom"):
        c.loss(
            losses, f"tools.{tool.type}", FMT, FMT, "Anthropic server tools have no canonical form"
        )
        return None
    return c.Tool(
        name=tool.name,
        description=tool.description or "",
        parameters=tool.input_schema or {},
        cache=tool.cache_control is not None,
        defer_loading=bool(tool.defer_loading),
    )


def _decode_choice(choice: w.ToolChoice | None, req: c.CanonRequest) -> None:
    if choice is None:
        return
    mode = _CHOICES.get(choice.type)
    if mode is None:
        raise BadRequest(f"invalid tool_choice type: {choice.type!r}")
    req.tool_choice = c.ToolChoice(cast(Any, mode), choice.name or "")
    if choice.disable_parallel_tool_use:
        req.parallel_tool_calls = False


def _decode_thinking(
    cfg: w.Thinking | None, output: w.OutputConfig | None
) -> c.ReasoningConfig | None:
    effort = _EFFORTS.get(output.effort or "") if output is not None else None
    if cfg is None or cfg.type == "disabled":
        return c.ReasoningConfig(effort=cast(c.Effort, effort)) if effort else None
    shown = cfg.display != "omitted"
    if cfg.type == "adaptive":
        budget = thinking.DYNAMIC
    elif cfg.type == "enabled":
        budget = cfg.budget_tokens or MIN_BUDGET
    else:
        raise BadRequest(f"invalid thinking type: {cfg.type!r}")
    return c.ReasoningConfig(
        effort=cast(c.Effort | None, effort), budget=budget, include_thoughts=shown
    )


def encode_request(req: c.CanonRequest, losses: list[c.Loss]) -> bytes:
    max_tokens = req.sampling.max_output_tokens or DEFAULT_MAX_TOKENS
    out: dict[str, Any] = {"model": req.model, "max_tokens": max_tokens}
    system, messages = _encode_conversation(req, losses)
    if system:
        out["system"] = system
    out["messages"] = messages
    if req.tools:
        out["tools"] = [_encode_tool(t) for t in req.tools]
        choice = _encode_choice(req)
        if choice is not None:
            out["tool_choice"] = choice
    config = _encode_thinking(req, out, losses)
    if config is not None:
        out["thinking"] = config
    _encode_sampling(req, out, config is not None, losses)
    if req.user is not None:
        out["metadata"] = {"user_id": req.user}
    if req.cache_key is not None:
        c.loss(losses, "prompt_cache_key", req.origin, FMT, "Anthropic caches by cache_control")
    if req.stream:
        out["stream"] = True
    if req.origin == FMT:
        jsonio.merge_extras(out, req.extras)
    return jsonio.encode(out)


def _encode_conversation(
    req: c.CanonRequest, losses: list[c.Loss]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    system = [b for b in (encode_block(t, req.origin, losses) for t in req.system) if b]
    messages: list[dict[str, Any]] = []
    for msg in req.messages:
        blocks = [b for b in (encode_block(x, req.origin, losses) for x in msg.content) if b]
        if msg.role == "system" and req.origin != FMT:
            # plain Anthropic has no system turns: the instruction joins the system prompt
            system.extend(blocks)
        elif blocks and req.origin == FMT:
            messages.append({"role": msg.role, "content": blocks})  # already a valid shape
        elif blocks:
            _append(messages, msg.role, blocks)
    hint = _format_hint(req, losses)
    if hint:
        system.append({"type": "text", "text": hint})
    return system, messages


def _append(messages: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    """Merge same-role neighbours; tool results go first in a user turn, as Anthropic requires."""
    if messages and messages[-1]["role"] == role:
        blocks = messages.pop()["content"] + blocks
    if role == "user":
        blocks = sorted(blocks, key=lambda b: b["type"] != "tool_result")
    messages.append({"role": role, "content": blocks})


def _format_hint(req: c.CanonRequest, losses: list[c.Loss]) -> str:
    fmt = req.response_format
    if fmt is None:
        return ""
    c.loss(losses, "response_format", req.origin, FMT, "no structured output: asked in the prompt")
    if fmt.type == "json_schema" and fmt.schema is not None:
        spec = jsonio.encode(fmt.schema).decode()
        return f"Respond with only a JSON value that matches this JSON Schema: {spec}"
    return "Respond with only a valid JSON object."


def _encode_tool(tool: c.Tool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": tool.name, "input_schema": schema.for_anthropic(tool.parameters)}
    if tool.description:
        out["description"] = tool.description
    if tool.cache:
        out["cache_control"] = EPHEMERAL
    if tool.defer_loading:
        out["defer_loading"] = True
    return out


def _encode_choice(req: c.CanonRequest) -> dict[str, Any] | None:
    choice = req.tool_choice
    out: dict[str, Any] | None = None
    if choice is not None:
        kind = {"auto": "auto", "required": "any", "tool": "tool", "none": "none"}[choice.mode]
        out = {"type": kind, "name": choice.name} if kind == "tool" else {"type": kind}
    if req.parallel_tool_calls is False:
        out = out or {"type": "auto"}
        if out["type"] != "none":
            out["disable_parallel_tool_use"] = True
    return out


def _encode_thinking(
    req: c.CanonRequest, out: dict[str, Any], losses: list[c.Loss]
) -> dict[str, Any] | None:
    """Thinking config; without a client max_tokens, max_tokens grows to fit the budget."""
    budget = thinking.budget_of(req.reasoning)
    if budget is None or budget == 0:
        return None
    if budget == thinking.DYNAMIC:
        if req.origin == FMT:
            return _adaptive(req.reasoning)
        effort = thinking.effort_of(req.reasoning) or thinking.DEFAULT_EFFORT
        budget = thinking.EFFORT_BUDGET[effort]
    budget = max(budget, MIN_BUDGET)
    if req.sampling.max_output_tokens is None:
        out["max_tokens"] = budget + DEFAULT_MAX_TOKENS
    budget = min(budget, out["max_tokens"] - 1)
    if budget < MIN_BUDGET:
        c.loss(losses, "reasoning.budget", req.origin, FMT, "max_tokens too small for thinking")
        return None
    return {"type": "enabled", "budget_tokens": budget}


def _adaptive(cfg: c.ReasoningConfig | None) -> dict[str, Any]:
    out = {"type": "adaptive"}
    if cfg is not None and cfg.include_thoughts is False:
        out["display"] = "omitted"
    return out


def _encode_sampling(
    req: c.CanonRequest, out: dict[str, Any], thinks: bool, losses: list[c.Loss]
) -> None:
    s = req.sampling
    temperature = s.temperature
    if temperature is not None and temperature > 1:
        c.loss(losses, "temperature", req.origin, FMT, "Anthropic temperature is at most 1")
        temperature = 1.0
    if thinks and temperature is not None and temperature != 1:
        c.loss(losses, "temperature", req.origin, FMT, "thinking requires temperature 1")
        temperature = None
    if temperature is not None:
        out["temperature"] = temperature
    if s.top_p is not None and not (thinks and s.top_p < 0.95):
        out["top_p"] = s.top_p
    if s.top_k is not None and not thinks:
        out["top_k"] = s.top_k
    if s.stop:
        out["stop_sequences"] = s.stop
    if s.seed is not None or s.presence_penalty is not None or s.frequency_penalty is not None:
        c.loss(losses, "seed/penalties", req.origin, FMT, "Anthropic has no seed or penalties")
