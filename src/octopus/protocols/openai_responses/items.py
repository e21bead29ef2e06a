"""Responses items ↔ canonical blocks, shared by requests, responses and streams."""

from __future__ import annotations

from itertools import groupby
from typing import Any, cast

from octopus.protocols import canonical as c
from octopus.protocols.formats import WireFormat
from octopus.protocols.openai_responses import wire as w

FMT = WireFormat.OPENAI_RESPONSES
_TEXT_PARTS = frozenset({"input_text", "output_text", "text", "summary_text", "reasoning_text"})


def decode_parts(
    content: str | list[w.Part] | None, losses: list[c.Loss]
) -> list[c.Text | c.Image]:
    if isinstance(content, str):
        return [c.Text(content)]
    out: list[c.Text | c.Image] = []
    for part in content or []:
        if part.type in _TEXT_PARTS:
            out.append(c.Text(part.text or ""))
        elif part.type == "refusal":
            out.append(c.Text(part.refusal or part.text or ""))
        elif part.type == "input_image" and part.image_url:
            out.append(c.Image.from_url(part.image_url))
        else:
            c.loss(losses, f"content.{part.type}", FMT, FMT, "content part type not supported")
    return out


def decode_reasoning(item: w.Item) -> list[c.Block]:
    """One block per summary part; the item's id and encrypted content ride on the last."""
    texts = [p.text or "" for p in item.summary or []] or [""]
    opaque = None
    if item.encrypted_content or item.id:
        opaque = c.OpaqueState(FMT, item.encrypted_content or "", id=item.id or "")
    blocks: list[c.Block] = [c.Reasoning(t) for t in texts[:-1]]
    return [*blocks, c.Reasoning(texts[-1], opaque)]


def decode_output(items: list[w.Item], losses: list[c.Loss]) -> list[c.Block]:
    """Model output items (or the assistant side of input) as canonical blocks."""
    blocks: list[c.Block] = []
    for item in items:
        if item.type == "function_call":
            blocks.append(
                c.ToolCall(item.call_id or item.id or "", item.name or "", item.arguments or "{}")
            )
        elif item.type == "reasoning":
            blocks.extend(decode_reasoning(item))
        elif item.type in (None, "message"):
            blocks.extend(decode_parts(item.content, losses))
        else:
            c.loss(losses, f"output.{item.type}", FMT, FMT, "item type has no canonical form")
    return blocks


def encode_parts(blocks: list[c.Block] | list[c.Text | c.Image], role: str) -> list[dict[str, Any]]:
    kind = "output_text" if role == "assistant" else "input_text"
    parts: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, c.Text):
            part: dict[str, Any] = {"type": kind, "text": block.text}
            if kind == "output_text":
                part["annotations"] = []
            parts.append(part)
        elif isinstance(block, c.Image):
            parts.append({"type": "input_image", "image_url": block.as_url()})
    return parts


def encode_message(role: str, blocks: list[c.Block] | list[c.Text | c.Image]) -> dict[str, Any]:
    return {"type": "message", "role": role, "content": encode_parts(blocks, role)}


def encode_call(block: c.ToolCall, item_id: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "function_call",
        "call_id": block.id,
        "name": block.name,
        "arguments": block.arguments or "{}",
    }
    if item_id:
        out["id"] = item_id
        out["status"] = "completed"
    return out


def encode_result(block: c.ToolResult) -> dict[str, Any]:
    output: str | list[dict[str, Any]] = c.text_of(block.content)
    if any(isinstance(b, c.Image) for b in block.content):
        output = encode_parts(block.content, "user")
    elif block.is_error:
        # Responses has no error flag: tell the model in the output itself
        output = f"Error: {output}"
    return {"type": "function_call_output", "call_id": block.call_id, "output": output}


def encode_reasoning(
    summaries: list[str], opaque: c.OpaqueState | None, item_id: str
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "reasoning",
        "id": opaque.id if opaque and opaque.id else item_id,
    }
    out["summary"] = [{"type": "summary_text", "text": t} for t in summaries if t]
    if opaque is not None and opaque.data:
        out["encrypted_content"] = opaque.data
    return out


def encode_output(
    blocks: list[c.Block], losses: list[c.Loss], history: WireFormat | None = None
) -> list[dict[str, Any]]:
    """Assistant blocks as items, in order; `history` (the request origin) means input items."""
    items: list[dict[str, Any]] = []
    for kind, run in groupby(blocks, key=type):
        group = list(run)
        if kind is c.Text:
            items.append(_message_item(group, len(items), history is not None))
        elif kind is c.ToolCall:
            calls = [b for b in group if isinstance(b, c.ToolCall)]
            items.extend(encode_call(b, "" if history else f"fc_{b.id}") for b in calls)
        elif kind is c.Reasoning:
            items.extend(_reasoning_items(group, losses, len(items), history))
    return items


def _reasoning_items(
    group: list[c.Block], losses: list[c.Loss], n: int, history: WireFormat | None
) -> list[dict[str, Any]]:
    """Reasoning blocks up to one carrying Responses opaque state form one reasoning item."""
    items: list[dict[str, Any]] = []
    summaries: list[str] = []
    for block in cast(list[c.Reasoning], group):  # grouped by type: all reasoning
        summaries.append(block.text)
        opaque = block.opaque
        if opaque is not None and opaque.origin != FMT:
            c.opaque_loss(losses, opaque.origin, FMT)
            opaque = None
        if opaque is not None:
            items.append(encode_reasoning(summaries, opaque, f"rs_{n + len(items)}"))
            summaries = []
    if any(summaries) and history is not None:
        c.loss(losses, "reasoning.text", history, FMT, "unsigned reasoning cannot be replayed")
    elif any(summaries):
        items.append(encode_reasoning(summaries, None, f"rs_{n + len(items)}"))
    return items


def _message_item(texts: list[c.Block], n: int, history: bool) -> dict[str, Any]:
    item = encode_message("assistant", texts)
    return item if history else {"id": f"msg_{n}", **item, "status": "completed"}
