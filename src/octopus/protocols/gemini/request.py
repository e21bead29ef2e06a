"""Gemini generateContent request body ↔ CanonRequest (model and stream come from the URL)."""

from __future__ import annotations

from typing import Any, cast

import msgspec

from octopus.protocols import canonical as c
from octopus.protocols import jsonio, schema, thinking
from octopus.protocols.formats import WireFormat
from octopus.protocols.gemini import wire as w
from octopus.protocols.gemini.parts import SKIP_SIGNATURE, PartDecoder, PartEncoder

FMT = WireFormat.GEMINI
# generationConfig stays in extras as well: its unmapped keys are merged back for Gemini
CONSUMED = frozenset({"contents", "systemInstruction", "tools", "toolConfig"})
_MODES = {"AUTO": "auto", "ANY": "required", "NONE": "none", "VALIDATED": "auto"}
_LEVELS = {"minimal": "minimal", "low": "low", "medium": "medium", "high": "high"}
_WHAT = "generateContent request"
# values that are user data (arguments, schemas): their keys are never renamed
_FREE_FORM = frozenset(
    {
        "args",
        "response",
        "parameters",
        "parametersJsonSchema",
        "responseSchema",
        "responseJsonSchema",
    }
)


def decode_request(
    body: bytes, *, model: str | None = None, stream: bool | None = None
) -> c.CanonRequest:
    raw = _decode_body(body)
    req = c.CanonRequest(model=model or "", origin=FMT, stream=bool(stream))
    decoder = PartDecoder(req.losses)
    if raw.system_instruction is not None:
        req.system = [
            b for b in decoder.blocks(raw.system_instruction.parts) if isinstance(b, c.Text)
        ]
    for content in raw.contents:
        role: c.Role = "assistant" if content.role == "model" else "user"
        req.messages.append(c.Message(role, decoder.blocks(content.parts)))
    req.tools = [
        c.Tool(d.name, d.description or "", d.parameters or d.parameters_json_schema or {})
        for t in raw.tools or []
        for d in t.function_declarations or []
    ]
    if any(t.function_declarations is None for t in raw.tools or []):
        c.loss(req.losses, "tools.builtin", FMT, FMT, "Gemini built-in tools cannot be converted")
    req.tool_choice = _decode_choice(raw.tool_config)
    _decode_generation(raw.generation_config or w.GenerationConfig(), req)
    req.extras = jsonio.raw_extras(body, CONSUMED)
    return req


def _decode_body(body: bytes) -> w.Request:
    """The API's proto JSON takes snake_case as well as camelCase, and google-genai sends some
    nested fields that way (`fileData.file_uri`, `thinkingConfig.thinking_budget`)."""
    if b"_" not in body:
        return jsonio.client_body(body, w.Request, _WHAT)
    tree = jsonio.client_body(body, dict[str, Any], _WHAT)
    with jsonio.client_errors(_WHAT):  # the renaming recurses as deep as the body nests
        return msgspec.convert(_camel_keys(tree), type=w.Request)


def _camel_keys(value: Any) -> Any:
    if isinstance(value, list):
        return [_camel_keys(item) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = _camel(key)
        out[name] = item if name in _FREE_FORM else _camel_keys(item)
    return out


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest) if rest and head else key


def _decode_choice(cfg: w.ToolConfig | None) -> c.ToolChoice | None:
    fc = cfg.function_calling_config if cfg is not None else None
    if fc is None or fc.mode is None:
        return None
    mode = _MODES.get(fc.mode.upper(), "auto")
    names = fc.allowed_function_names or []
    if mode == "required" and len(names) == 1:
        return c.ToolChoice("tool", names[0])
    return c.ToolChoice(cast(Any, mode))


def _decode_generation(gen: w.GenerationConfig, req: c.CanonRequest) -> None:
    req.sampling = c.Sampling(
        temperature=gen.temperature,
        top_p=gen.top_p,
        top_k=gen.top_k,
        max_output_tokens=gen.max_output_tokens,
        stop=list(gen.stop_sequences or []),
        seed=gen.seed,
        presence_penalty=gen.presence_penalty,
        frequency_penalty=gen.frequency_penalty,
    )
    schema_ = gen.response_json_schema or gen.response_schema
    if schema_ is not None:
        req.response_format = c.ResponseFormat("json_schema", "response", schema_)
    elif gen.response_mime_type == "application/json":
        req.response_format = c.ResponseFormat("json_object")
    tc = gen.thinking_config
    if tc is not None:
        effort = _LEVELS.get((tc.thinking_level or "").lower())
        req.reasoning = c.ReasoningConfig(
            effort=cast(c.Effort | None, effort),
            budget=tc.thinking_budget,
            include_thoughts=tc.include_thoughts,
        )


def encode_request(req: c.CanonRequest, losses: list[c.Loss]) -> bytes:
    encoder = PartEncoder(req.origin, losses)
    system = encoder.parts(list(req.system))
    contents: list[dict[str, Any]] = []
    for msg in req.messages:
        parts = encoder.parts(msg.content) + encoder.flush()
        if msg.role == "system":
            system.extend(parts)
        elif parts:
            _append(contents, "model" if msg.role == "assistant" else "user", parts, req.origin)
    out: dict[str, Any] = {"contents": contents}
    if system:
        out["systemInstruction"] = {"parts": system}
    _encode_tools(req, out, losses)
    gen = _encode_generation(req, losses)
    if gen:
        out["generationConfig"] = gen
    if req.user is not None or req.cache_key is not None:
        c.loss(losses, "user/prompt_cache_key", req.origin, FMT, "Gemini has no such fields")
    if req.origin == FMT:
        jsonio.merge_extras(out, req.extras)
    return jsonio.encode(out)


def _append(
    contents: list[dict[str, Any]], role: str, parts: list[dict[str, Any]], origin: WireFormat
) -> None:
    """Same-role neighbours merge: every functionResponse of a turn lands in one content."""
    if role == "model" and origin != FMT:
        _sign_first_call(parts)
    if contents and contents[-1]["role"] == role:
        contents[-1]["parts"].extend(parts)
    else:
        contents.append({"role": role, "parts": parts})


def _sign_first_call(parts: list[dict[str, Any]]) -> None:
    for part in parts:
        if "functionCall" in part:
            part.setdefault("thoughtSignature", SKIP_SIGNATURE)
            return


def _encode_tools(req: c.CanonRequest, out: dict[str, Any], losses: list[c.Loss]) -> None:
    if not req.tools:
        return
    decls = []
    for tool in req.tools:
        decl: dict[str, Any] = {"name": tool.name}
        if tool.description:
            decl["description"] = tool.description
        if tool.parameters.get("properties"):
            decl["parameters"] = schema.for_gemini(tool.parameters)
        if tool.defer_loading or tool.cache:
            c.loss(
                losses,
                "tools.anthropic_hints",
                req.origin,
                FMT,
                "cache_control and defer_loading are Anthropic-only",
            )
        decls.append(decl)
    out["tools"] = [{"functionDeclarations": decls}]
    choice = req.tool_choice
    if choice is not None:
        mode = {"auto": "AUTO", "required": "ANY", "tool": "ANY", "none": "NONE"}[choice.mode]
        config: dict[str, Any] = {"mode": mode}
        if choice.mode == "tool":
            config["allowedFunctionNames"] = [choice.name]
        out["toolConfig"] = {"functionCallingConfig": config}
    if req.parallel_tool_calls is False:
        c.loss(
            losses, "parallel_tool_calls", req.origin, FMT, "Gemini cannot forbid parallel calls"
        )


def _encode_generation(req: c.CanonRequest, losses: list[c.Loss]) -> dict[str, Any]:
    s = req.sampling
    pairs = (
        ("temperature", s.temperature),
        ("topP", s.top_p),
        ("topK", s.top_k),
        ("maxOutputTokens", s.max_output_tokens),
        ("stopSequences", s.stop or None),
        ("seed", s.seed),
        ("presencePenalty", s.presence_penalty),
        ("frequencyPenalty", s.frequency_penalty),
    )
    gen: dict[str, Any] = {k: v for k, v in pairs if v is not None}
    fmt = req.response_format
    if fmt is not None:
        gen["responseMimeType"] = "application/json"
        if fmt.type == "json_schema" and fmt.schema is not None:
            gen["responseSchema"] = schema.for_gemini(fmt.schema)
    config = _thinking(req)
    if config:
        gen["thinkingConfig"] = config
    if req.origin == FMT and "generationConfig" in req.extras:
        original = msgspec.json.decode(req.extras["generationConfig"])
        gen = {**(original if isinstance(original, dict) else {}), **gen}
    return gen


def _thinking(req: c.CanonRequest) -> dict[str, Any]:
    cfg = req.reasoning
    if cfg is None:
        return {}
    out: dict[str, Any] = {}
    if req.origin == FMT and cfg.budget is None and cfg.effort is not None:
        out["thinkingLevel"] = cfg.effort
    else:
        budget = thinking.budget_of(cfg)
        if budget is not None:
            out["thinkingBudget"] = budget
    if cfg.include_thoughts is not None:
        out["includeThoughts"] = cfg.include_thoughts
    return out
