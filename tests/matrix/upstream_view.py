"""What the fake upstream received, read in the upstream's OWN wire format.

Each reader walks the provider's JSON the way that provider documents it (no codec involved),
and checks the structural rules that provider enforces along the way (Anthropic: all tool
results of a turn in one user message; Gemini: functionResponse parts in one user content).
"""

from __future__ import annotations

from typing import Any

from octopus.protocols import WireFormat

Doc = dict[str, Any]
CHAT, RESPONSES, ANTHROPIC, GEMINI = (
    WireFormat.OPENAI_CHAT,
    WireFormat.OPENAI_RESPONSES,
    WireFormat.ANTHROPIC,
    WireFormat.GEMINI,
)


def field(doc: Doc, name: str) -> Any:
    """A Gemini field by its camelCase name or its snake_case one (the API takes both)."""
    if name in doc:
        return doc[name]
    return doc.get("".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in name))


def _texts(content: Any, *keys: str) -> list[str]:
    """Text of a string content or of the parts whose type is one of `keys`."""
    if isinstance(content, str):
        return [content]
    return [p["text"] for p in content or [] if p.get("type") in keys and "text" in p]


def user_text(kind: WireFormat, doc: Doc) -> str:
    """All user text, joined (the prompt the client wrote)."""
    if kind is GEMINI:
        return "".join(
            p.get("text", "")
            for m in doc["contents"]
            if m.get("role", "user") == "user"
            for p in m["parts"]
        )
    if kind is RESPONSES:
        items = doc["input"] if isinstance(doc["input"], list) else [doc["input"]]
        return "".join(
            "".join(_texts(i if isinstance(i, str) else i["content"], "input_text"))
            for i in items
            if isinstance(i, str) or i.get("role") == "user"
        )
    return "".join(
        "".join(_texts(m["content"], "text")) for m in doc["messages"] if m["role"] == "user"
    )


def system_text(kind: WireFormat, doc: Doc) -> str:
    if kind is CHAT:
        return "".join(
            "".join(_texts(m["content"], "text"))
            for m in doc["messages"]
            if m["role"] in ("system", "developer")
        )
    if kind is RESPONSES:
        developer = [
            "".join(_texts(i["content"], "input_text"))
            for i in doc["input"]
            if isinstance(i, dict) and i.get("role") in ("system", "developer")
        ]
        return str(doc.get("instructions") or "") + "".join(developer)
    if kind is ANTHROPIC:
        return "".join(_texts(doc.get("system", []), "text"))
    return "".join(p["text"] for p in doc["systemInstruction"]["parts"])


def tools(kind: WireFormat, doc: Doc) -> dict[str, dict[str, Any]]:
    """Tool name → its parameter schema, as the upstream received them."""
    if kind is CHAT:
        return {t["function"]["name"]: t["function"]["parameters"] for t in doc["tools"]}
    if kind is RESPONSES:
        return {t["name"]: t["parameters"] for t in doc["tools"] if t["type"] == "function"}
    if kind is ANTHROPIC:
        return {t["name"]: t["input_schema"] for t in doc["tools"]}
    declared = [d for t in doc["tools"] for d in t.get("functionDeclarations", [])]
    return {d["name"]: d.get("parameters") or d.get("parametersJsonSchema") for d in declared}


def history(kind: WireFormat, doc: Doc) -> tuple[list[tuple[str, str, Any]], list[tuple[str, str]]]:
    """(calls as (id, name, arguments), results as (id, text)) of the replayed tool round trip.

    Gemini has no ids: its calls and results are keyed by function name instead.
    """
    readers = {CHAT: _chat_history, RESPONSES: _responses_history, ANTHROPIC: _anthropic_history}
    return readers.get(kind, _gemini_history)(doc)


def _chat_history(doc: Doc) -> tuple[list[tuple[str, str, Any]], list[tuple[str, str]]]:
    calls = [
        (c["id"], c["function"]["name"], c["function"]["arguments"])
        for m in doc["messages"]
        if m["role"] == "assistant"
        for c in m.get("tool_calls") or []
    ]
    results = [
        (m["tool_call_id"], "".join(_texts(m["content"], "text")))
        for m in doc["messages"]
        if m["role"] == "tool"
    ]
    return calls, results


def _responses_history(doc: Doc) -> tuple[list[tuple[str, str, Any]], list[tuple[str, str]]]:
    items = [i for i in doc["input"] if isinstance(i, dict)]
    calls = [
        (i["call_id"], i["name"], i["arguments"]) for i in items if i.get("type") == "function_call"
    ]
    results = [
        (
            i["call_id"],
            i["output"]
            if isinstance(i["output"], str)
            else "".join(_texts(i["output"], "input_text")),
        )
        for i in items
        if i.get("type") == "function_call_output"
    ]
    return calls, results


def _anthropic_history(doc: Doc) -> tuple[list[tuple[str, str, Any]], list[tuple[str, str]]]:
    messages = doc["messages"]
    at = next(i for i, m in enumerate(messages) if _has(m, "tool_use"))
    calls = [
        (b["id"], b["name"], b["input"]) for b in messages[at]["content"] if b["type"] == "tool_use"
    ]
    # every result of the turn in the ONE user message right after the calls, results first
    answer = messages[at + 1]
    assert answer["role"] == "user", messages
    blocks = answer["content"]
    assert [b["type"] for b in blocks[: len(calls)]] == ["tool_result"] * len(calls), blocks
    assert sum(_has(m, "tool_result") for m in messages) == 1, messages
    results = [
        (b["tool_use_id"], "".join(_texts(b["content"], "text")))
        for b in blocks
        if b["type"] == "tool_result"
    ]
    return calls, results


def _has(message: Doc, kind: str) -> bool:
    content = message["content"]
    return not isinstance(content, str) and any(b["type"] == kind for b in content)


def _gemini_history(doc: Doc) -> tuple[list[tuple[str, str, Any]], list[tuple[str, str]]]:
    contents = doc["contents"]
    at = next(i for i, m in enumerate(contents) if any("functionCall" in p for p in m["parts"]))
    assert contents[at]["role"] == "model", contents
    calls = [
        (p["functionCall"]["name"], p["functionCall"]["name"], p["functionCall"]["args"])
        for p in contents[at]["parts"]
        if "functionCall" in p
    ]
    answer = contents[at + 1]  # all functionResponse parts in one user content after the calls
    assert answer.get("role", "user") == "user", contents
    responses = [p["functionResponse"] for p in answer["parts"] if "functionResponse" in p]
    assert len(responses) == len(calls), contents
    results = [(r["name"], _gemini_result(r["response"])) for r in responses]
    return calls, results


def _gemini_result(response: Doc) -> str:
    values = list(response.values())
    return values[0] if len(values) == 1 and isinstance(values[0], str) else str(response)


def images(kind: WireFormat, doc: Doc) -> list[tuple[str, str]]:
    """Images in user turns as ("base64", data) or ("url", url)."""
    found: list[tuple[str, str]] = []
    if kind is GEMINI:
        for part in (p for m in doc["contents"] for p in m["parts"]):
            if field(part, "inlineData"):
                found.append(("base64", field(part, "inlineData")["data"]))
            elif field(part, "fileData"):
                found.append(("url", field(field(part, "fileData"), "fileUri")))
        return found
    if kind is ANTHROPIC:
        for block in (
            b for m in doc["messages"] if not isinstance(m["content"], str) for b in m["content"]
        ):
            if block["type"] == "image":
                source = block["source"]
                found.append(
                    ("base64", source["data"])
                    if source["type"] == "base64"
                    else ("url", source["url"])
                )
        return found
    if kind is CHAT:
        urls = [
            p["image_url"]["url"]
            for m in doc["messages"]
            if not isinstance(m["content"], str)
            for p in m["content"] or []
            if p["type"] == "image_url"
        ]
    else:
        urls = [
            p["image_url"]
            for i in doc["input"]
            if isinstance(i, dict) and not isinstance(i.get("content", ""), str)
            for p in i["content"]
            if p["type"] == "input_image"
        ]
    for url in urls:
        head, _, data = url.partition(",")
        found.append(("base64", data) if head.startswith("data:") else ("url", url))
    return found


def reasoning(kind: WireFormat, doc: Doc) -> tuple[str | None, int | None]:
    """(effort, budget) as the upstream received its thinking configuration."""
    if kind is CHAT:
        return doc.get("reasoning_effort"), None
    if kind is RESPONSES:
        return (doc.get("reasoning") or {}).get("effort"), None
    if kind is ANTHROPIC:
        config = doc.get("thinking") or {}
        return (doc.get("output_config") or {}).get("effort"), config.get("budget_tokens")
    config = field(field(doc, "generationConfig") or {}, "thinkingConfig") or {}
    return field(config, "thinkingLevel"), field(config, "thinkingBudget")
