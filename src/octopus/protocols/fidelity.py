"""The fidelity matrix: what each of the 12 cross-format directions keeps and drops.

Built only from the FEATURES every codec declares, so docs/protocols.md (generated from here by
scripts/gen_protocols_doc.py) cannot drift from the code; a test pins the committed file.
"""

from __future__ import annotations

import inspect

from octopus.protocols import canonical as c
from octopus.protocols import embeddings as emb
from octopus.protocols.anthropic_messages import FEATURES as ANTHROPIC
from octopus.protocols.formats import WireFormat
from octopus.protocols.gemini import FEATURES as GEMINI
from octopus.protocols.openai_chat import FEATURES as OPENAI_CHAT
from octopus.protocols.openai_responses import FEATURES as OPENAI_RESPONSES

FEATURES: dict[WireFormat, frozenset[str]] = {
    WireFormat.OPENAI_CHAT: OPENAI_CHAT,
    WireFormat.OPENAI_RESPONSES: OPENAI_RESPONSES,
    WireFormat.ANTHROPIC: ANTHROPIC,
    WireFormat.GEMINI: GEMINI,
}

# request side: what a client of the source format can ask that the target upstream receives
REQUEST: dict[str, str] = {
    "text": "text content, multi-turn history",
    "system": "system / developer instructions",
    "system.mid_conversation": "instructions inside the conversation, kept in place",
    "images.url": "images by URL in user turns",
    "images.base64": "inline base64 images in user turns",
    "tools": "function tools (JSON schema cleaned for the target)",
    "tool_choice": "tool_choice auto / none / required / a named tool",
    "parallel_tool_calls": "parallel_tool_calls = false",
    "tool_result.text": "tool results (consecutive results merged where required)",
    "tool_result.image": "images inside tool results",
    "tool_result.is_error": "error flag on tool results (otherwise an `Error: ` prefix)",
    "reasoning.effort": "reasoning effort / thinking budget, mapped by one effort↔budget table",
    "reasoning.budget": "exact thinking token budgets and adaptive/dynamic thinking",
    "structured_output": "JSON mode and JSON-schema structured output",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "stop": "stop sequences",
    "max_output_tokens": "max output tokens",
    "seed": "seed",
    "penalties": "presence / frequency penalties",
    "user": "end-user id",
    "cache_key": "prompt_cache_key",
    "cache_control": "cache_control breakpoints",
    "tools.defer_loading": "defer_loading on tools",
}
# response side: what the target upstream answers that reaches the source-format client
RESPONSE: dict[str, str] = {
    "reasoning.text": "reasoning / thinking text and deltas",
    "reasoning.opaque": "signatures, redacted thinking, encrypted reasoning (same format only)",
    "usage.cache_read": "cached input tokens",
    "usage.cache_write": "cache-write input tokens",
    "usage.reasoning": "reasoning output tokens",
    "stop.stop_sequence": "stop reason `stop_sequence`",
    "stop.refusal": "stop reason `refusal`",
    "stop.pause": "stop reason `pause_turn`",
    "stop.content_filter": "stop reason content filter / safety",
}
ALWAYS = (
    "Always kept in every direction: text, tool calls with streamed argument deltas "
    "(parallel calls indexed in order), tool results, input/output token counts, "
    "end / length / tool-use stop reasons, and errors (mapped to the client's own error shape "
    "with the upstream status)."
)
NOTES: dict[WireFormat, str] = {
    WireFormat.ANTHROPIC: (
        "As a target: `max_tokens` defaults to 8192; structured output is requested in the "
        "system prompt (and recorded as a loss); instructions inside the conversation join the "
        "system prompt; unsigned reasoning from other formats is not replayed; thinking forces "
        "temperature 1 and drops top_k."
    ),
    WireFormat.GEMINI: (
        "As a target: schemas are reduced to Gemini's OpenAPI subset ($ref inlined, `$schema`, "
        "`additionalProperties`, `exclusiveMinimum`… removed); instructions inside the "
        "conversation join systemInstruction; replayed foreign calls get the documented "
        "`skip_thought_signature_validator` signature."
    ),
    WireFormat.OPENAI_RESPONSES: (
        "As a target: `store: false` is sent (history is always complete); namespace tools are "
        "flattened and hosted tools (web_search…) dropped with a loss when decoding."
    ),
    WireFormat.OPENAI_CHAT: (
        "As a target: reasoning history from other formats is not replayed (OpenAI rejects "
        "unknown message fields); reasoning output arrives as `reasoning_content` deltas "
        "(DeepSeek style); `stream_options.include_usage` is always requested when streaming."
    ),
}


def directions() -> list[tuple[WireFormat, WireFormat]]:
    return [(s, t) for s in WireFormat for t in WireFormat if s != t]


def request_fidelity(source: WireFormat, target: WireFormat) -> tuple[list[str], list[str]]:
    """(kept, dropped) request features for a `source` client served by a `target` upstream."""
    have = FEATURES[source] & REQUEST.keys()
    kept = sorted(f for f in have if f in FEATURES[target])
    return kept, sorted(have - set(kept))


def response_fidelity(source: WireFormat, target: WireFormat) -> tuple[list[str], list[str]]:
    """(kept, dropped) response features coming back from `target` to a `source` client."""
    have = FEATURES[target] & RESPONSE.keys()
    kept = sorted(f for f in have if f in FEATURES[source] and f != "reasoning.opaque")
    return kept, sorted(have - set(kept))


def render() -> str:
    lines = [
        "# Protocol conversion fidelity",
        "",
        "Generated by `scripts/gen_protocols_doc.py` from the FEATURES each codec declares",
        "(`src/octopus/protocols/*/__init__.py`); `tests/protocols/test_fidelity.py` keeps",
        "this file equal to the generated text. Every runtime drop is also recorded as a",
        "`Loss(field, source, target, reason)` on the request.",
        "",
        ALWAYS,
        "",
        "## Features",
        "",
        *[f"* `{k}`: {v}" for k, v in {**REQUEST, **RESPONSE}.items()],
        "",
        "## Canonical model",
        "",
        inspect.cleandoc(c.__doc__ or ""),
        "",
        "## Target notes",
        "",
        *[f"* **{fmt.value}**: {NOTES[fmt]}" for fmt in WireFormat],
    ]
    for source, target in directions():
        lines += _direction(source, target)
    lines += _embeddings()
    return "\n".join(lines) + "\n"


def embeddings_fidelity(source: WireFormat, target: WireFormat) -> dict[str, list[str]]:
    """Embeddings request features a `source` client keeps, drops or is refused on `target`."""
    have = emb.FEATURES[source]
    refused = have & emb.REFUSED.get(target, frozenset())
    kept = have & emb.FEATURES[target]
    return {
        "kept": sorted(kept),
        "dropped": sorted(have - kept - refused),
        "refused (member skipped)": sorted(refused),
    }


def _embeddings() -> list[str]:
    lines = [
        "",
        "## Embeddings",
        "",
        "`POST /v1/embeddings` (OpenAI) and `/v1beta/models/{m}:embedContent` / "
        "`:batchEmbedContents` (Gemini). Same dialect passes through byte-identical; "
        "`openai` and `openai_responses` channels speak OpenAI's embeddings API.",
        "",
        emb.ALWAYS,
        "",
        *[f"* `{k}`: {v}" for k, v in emb.DESCRIPTIONS.items()],
    ]
    dialects = list(emb.FEATURES)
    for source in dialects:
        for target in (d for d in dialects if d is not source):
            lines += ["", f"### {source.value} embeddings client → {target.value} upstream", ""]
            for what, keys in embeddings_fidelity(source, target).items():
                lines.append(f"* {what}: {_list(keys)}")
    return lines


def _direction(source: WireFormat, target: WireFormat) -> list[str]:
    req_kept, req_dropped = request_fidelity(source, target)
    resp_kept, resp_dropped = response_fidelity(source, target)
    return [
        "",
        f"## {source.value} client → {target.value} upstream",
        "",
        f"* request kept: {_list(req_kept)}",
        f"* request dropped: {_list(req_dropped)}",
        f"* response kept: {_list(resp_kept)}",
        f"* response dropped: {_list(resp_dropped)}",
    ]


def _list(keys: list[str]) -> str:
    return ", ".join(f"`{k}`" for k in keys) if keys else "nothing"
