"""OpenAI Chat Completions request body ↔ CanonRequest."""

from __future__ import annotations

from typing import Any, cast

from octopus.errors import BadRequest
from octopus.protocols import canonical as c
from octopus.protocols import jsonio, schema, thinking
from octopus.protocols.formats import WireFormat
from octopus.protocols.openai_chat import wire as w

FMT = WireFormat.OPENAI_CHAT
# keys this module maps; everything else rides in CanonRequest.extras
CONSUMED = frozenset(
    {
        "model", "messages", "tools", "tool_choice", "parallel_tool_calls", "temperature",
        "top_p", "top_k", "max_completion_tokens", "stop", "seed", "presence_penalty",
        "frequency_penalty", "stream", "stream_options", "reasoning_effort",
        "response_format", "user", "prompt_cache_key",
    }
)  # fmt: skip
_EFFORTS = frozenset({"none", "minimal", "low", "medium", "high", "xhigh", "max"})


def decode_request(
    body: bytes, *, model: str | None = None, stream: bool | None = None
) -> c.CanonRequest:
    raw = jsonio.client_body(body, w.Request, "chat completions request")
    req = c.CanonRequest(model=model or raw.model, origin=FMT, stream=bool(raw.stream))
    if stream is not None:
        req.stream = stream
    _decode_messages(raw.messages, req)
    req.tools = [_decode_tool(t, req) for t in raw.tools or [] if t.function is not None]
    req.tool_choice = _decode_choice(raw.tool_choice)
    req.parallel_tool_calls = raw.parallel_tool_calls
    req.sampling = c.Sampling(
        temperature=raw.temperature,
        top_p=raw.top_p,
        top_k=raw.top_k,
        max_output_tokens=raw.max_completion_tokens or raw.max_tokens,
        stop=[raw.stop] if isinstance(raw.stop, str) else list(raw.stop or []),
        seed=raw.seed,
        presence_penalty=raw.presence_penalty,
        frequency_penalty=raw.frequency_penalty,
    )
    if raw.reasoning_effort is not None:
        if raw.reasoning_effort not in _EFFORTS:
            raise BadRequest(f"invalid reasoning_effort: {raw.reasoning_effort!r}")
        req.reasoning = c.ReasoningConfig(effort=cast(c.Effort, raw.reasoning_effort))
    req.response_format = _decode_format(raw.response_format)
    req.user = raw.user
    req.cache_key = raw.prompt_cache_key
    req.extras = jsonio.raw_extras(body, CONSUMED)
    return req


def _decode_messages(messages: list[w.Message], req: c.CanonRequest) -> None:
    for msg in messages:
        if msg.role in ("system", "developer"):
            text = _text(msg.content)
            if req.messages:
                req.messages.append(c.Message("system", [c.Text(text)]))
            else:
                req.system.append(c.Text(text))
        elif msg.role == "user":
            req.messages.append(c.Message("user", _user_blocks(msg.content, req)))
        elif msg.role == "assistant":
            req.messages.append(c.Message("assistant", _assistant_blocks(msg)))
        elif msg.role in ("tool", "function"):
            _append_result(req.messages, msg)
        else:
            raise BadRequest(f"unknown message role: {msg.role!r}")


def _text(content: str | list[w.Part] | None) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(p.text or "" for p in content or [] if p.type == "text")


def _user_blocks(content: str | list[w.Part] | None, req: c.CanonRequest) -> list[c.Block]:
    if isinstance(content, str):
        return [c.Text(content)]
    blocks: list[c.Block] = []
    for part in content or []:
        if part.type == "text":
            blocks.append(c.Text(part.text or ""))
        elif part.type == "image_url" and part.image_url is not None:
            url = part.image_url if isinstance(part.image_url, str) else part.image_url.url
            blocks.append(c.Image.from_url(url))
        else:
            c.loss(req.losses, f"content.{part.type}", FMT, FMT, "content part type not supported")
    return blocks


def _assistant_blocks(msg: w.Message) -> list[c.Block]:
    blocks: list[c.Block] = []
    reasoning = msg.reasoning_content or msg.reasoning
    if reasoning:
        blocks.append(c.Reasoning(reasoning))
    text = _text(msg.content)
    if text:
        blocks.append(c.Text(text))
    for call in msg.tool_calls or []:
        args = call.function.arguments or "{}"
        blocks.append(c.ToolCall(call.id or call.function.name, call.function.name, args))
    return blocks


def _append_result(messages: list[c.Message], msg: w.Message) -> None:
    call_id = msg.tool_call_id or msg.name or ""
    content: list[c.Text | c.Image] = [c.Text(_text(msg.content))]
    result = c.ToolResult(call_id=call_id, content=content, name=msg.name or "")
    last = messages[-1] if messages else None
    # consecutive tool messages answer one assistant turn: keep them in one user message
    if last is not None and last.role == "user" and _only_results(last):
        last.content.append(result)
    else:
        messages.append(c.Message("user", [result]))


def _only_results(msg: c.Message) -> bool:
    return all(isinstance(b, c.ToolResult) for b in msg.content)


def _decode_tool(tool: w.Tool, req: c.CanonRequest) -> c.Tool:
    fn = tool.function or w.FunctionDef(name="")
    if tool.type != "function":
        c.loss(req.losses, f"tools.{tool.type}", FMT, FMT, "only function tools are supported")
    return c.Tool(fn.name, fn.description or "", fn.parameters or {}, fn.strict)


def _decode_choice(choice: str | w.NamedChoice | None) -> c.ToolChoice | None:
    if choice is None:
        return None
    if isinstance(choice, str):
        if choice not in ("auto", "none", "required"):
            raise BadRequest(f"invalid tool_choice: {choice!r}")
        return c.ToolChoice(cast(Any, choice))
    name = choice.function.name if choice.function is not None else ""
    return c.ToolChoice("tool", name)


def _decode_format(fmt: w.ResponseFormat | None) -> c.ResponseFormat | None:
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return c.ResponseFormat("json_object")
    if fmt.type != "json_schema" or fmt.json_schema is None:
        raise BadRequest(f"invalid response_format type: {fmt.type!r}")
    js = fmt.json_schema
    return c.ResponseFormat("json_schema", js.name, js.schema, js.strict, js.description or "")


def encode_request(req: c.CanonRequest, losses: list[c.Loss]) -> bytes:
    out: dict[str, Any] = {"model": req.model, "messages": _encode_messages(req, losses)}
    if req.tools:
        out["tools"] = [_encode_tool(t, req.origin, losses) for t in req.tools]
    if req.tool_choice is not None:
        out["tool_choice"] = encode_choice(req.tool_choice)
    if req.parallel_tool_calls is not None and req.tools:
        out["parallel_tool_calls"] = req.parallel_tool_calls
    _encode_sampling(req, out, losses)
    effort = thinking.openai_effort(req.reasoning)
    if effort is not None:
        out["reasoning_effort"] = effort
    if req.response_format is not None:
        out["response_format"] = _encode_format(req.response_format)
    if req.stream:
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    if req.user is not None:
        out["user"] = req.user
    if req.cache_key is not None:
        out["prompt_cache_key"] = req.cache_key
    if req.origin == FMT:
        jsonio.merge_extras(out, req.extras)
    return jsonio.encode(out)


def _encode_sampling(req: c.CanonRequest, out: dict[str, Any], losses: list[c.Loss]) -> None:
    s = req.sampling
    pairs = (
        ("temperature", s.temperature),
        ("top_p", s.top_p),
        ("seed", s.seed),
        ("presence_penalty", s.presence_penalty),
        ("frequency_penalty", s.frequency_penalty),
    )
    out.update((k, v) for k, v in pairs if v is not None)
    keeps_legacy = req.origin == FMT and "max_tokens" in req.extras
    if s.max_output_tokens is not None and not keeps_legacy:
        out["max_completion_tokens"] = s.max_output_tokens
    if s.stop:
        out["stop"] = s.stop
    if s.top_k is not None:
        if req.origin == FMT:
            out["top_k"] = s.top_k
        else:
            c.loss(losses, "top_k", req.origin, FMT, "OpenAI has no top_k")


def _encode_messages(req: c.CanonRequest, losses: list[c.Loss]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if req.system:
        out.append({"role": "system", "content": "\n\n".join(t.text for t in req.system)})
    for msg in req.messages:
        if msg.role == "system":
            out.append({"role": "system", "content": c.text_of(msg.content)})
        elif msg.role == "assistant":
            out.append(_encode_assistant(msg.content, req.origin, losses))
        else:
            out.extend(_encode_user(msg.content, req.origin, losses))
    return out


def _encode_user(
    blocks: list[c.Block], origin: WireFormat, losses: list[c.Loss]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, c.ToolResult):
            out.append(_encode_result(block, origin, losses))
        elif isinstance(block, c.Text):
            parts.append({"type": "text", "text": block.text})
        elif isinstance(block, c.Image):
            parts.append({"type": "image_url", "image_url": {"url": block.as_url()}})
        if getattr(block, "cache", False):
            c.loss(losses, "cache_control", origin, FMT, "prompt caching hints are Anthropic-only")
    if len(parts) == 1 and parts[0]["type"] == "text":
        out.append({"role": "user", "content": parts[0]["text"]})
    elif parts:
        out.append({"role": "user", "content": parts})
    return out


def _encode_result(block: c.ToolResult, origin: WireFormat, losses: list[c.Loss]) -> dict[str, Any]:
    if any(isinstance(b, c.Image) for b in block.content):
        c.loss(losses, "tool_result.image", origin, FMT, "tool messages carry text only")
    text = c.text_of(block.content)
    if block.is_error:
        # Chat has no error flag: tell the model in the text itself
        text = f"Error: {text}"
    return {"role": "tool", "tool_call_id": block.call_id, "content": text}


def _encode_assistant(
    blocks: list[c.Block], origin: WireFormat, losses: list[c.Loss]
) -> dict[str, Any]:
    out: dict[str, Any] = {"role": "assistant"}
    text = c.text_of(blocks)
    reasoning = "".join(b.text for b in blocks if isinstance(b, c.Reasoning))
    calls = [encode_call(b) for b in blocks if isinstance(b, c.ToolCall)]
    out["content"] = text if text or not calls else None
    if reasoning and origin == FMT:
        out["reasoning_content"] = reasoning  # the client sent it, so its upstream takes it
    elif reasoning:
        # OpenAI rejects unknown message fields and some DeepSeek versions reject this one
        c.loss(losses, "reasoning.text", origin, FMT, "reasoning history is not replayed")
    if any(isinstance(b, c.Reasoning) and b.opaque is not None for b in blocks):
        c.opaque_loss(losses, origin, FMT)
    if calls:
        out["tool_calls"] = calls
    return out


def encode_call(block: c.ToolCall) -> dict[str, Any]:
    fn = {"name": block.name, "arguments": block.arguments or "{}"}
    return {"id": block.id, "type": "function", "function": fn}


def _encode_tool(tool: c.Tool, origin: WireFormat, losses: list[c.Loss]) -> dict[str, Any]:
    fn: dict[str, Any] = {"name": tool.name, "parameters": schema.for_openai(tool.parameters)}
    if tool.description:
        fn["description"] = tool.description
    if tool.strict is not None:
        fn["strict"] = tool.strict
    if tool.defer_loading:
        c.loss(losses, "tools.defer_loading", origin, FMT, "deferred loading is Anthropic-only")
    if tool.cache:
        c.loss(losses, "cache_control", origin, FMT, "prompt caching hints are Anthropic-only")
    return {"type": "function", "function": fn}


def encode_choice(choice: c.ToolChoice) -> Any:
    if choice.mode == "tool":
        return {"type": "function", "function": {"name": choice.name}}
    return choice.mode


def _encode_format(fmt: c.ResponseFormat) -> dict[str, Any]:
    if fmt.type != "json_schema":
        return {"type": fmt.type}
    js: dict[str, Any] = {"name": fmt.name or "response", "schema": fmt.schema or {}}
    if fmt.strict is not None:
        js["strict"] = fmt.strict
    if fmt.description:
        js["description"] = fmt.description
    return {"type": "json_schema", "json_schema": js}
