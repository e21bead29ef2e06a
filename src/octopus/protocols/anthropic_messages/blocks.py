"""Anthropic content blocks ↔ canonical blocks, shared by requests and responses."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from octopus.protocols import canonical as c
from octopus.protocols import jsonio
from octopus.protocols.anthropic_messages import wire as w
from octopus.protocols.formats import WireFormat

FMT = WireFormat.ANTHROPIC
EPHEMERAL = {"type": "ephemeral"}
_BAD_ID = re.compile(r"[^a-zA-Z0-9_-]")


def safe_id(call_id: str) -> str:
    """Anthropic tool ids must match ^[a-zA-Z0-9_-]+$; other providers are laxer."""
    return _BAD_ID.sub("_", call_id) or "toolu_0"


def decode_block(block: w.Block, losses: list[c.Loss]) -> c.Block | None:
    """One Anthropic block as canonical; None (with a loss) for types we cannot carry."""
    decoder = _DECODERS.get(block.type)
    if decoder is None:
        c.loss(losses, f"content.{block.type}", FMT, FMT, "block type has no canonical form")
        return None
    return decoder(block, losses)


def _decode_text(block: w.Block, losses: list[c.Loss]) -> c.Block | None:
    return c.Text(block.text or "", cache=block.cache_control is not None)


def _decode_tool_use(block: w.Block, losses: list[c.Loss]) -> c.Block | None:
    args = jsonio.encode(block.input if block.input is not None else {}).decode()
    return c.ToolCall(block.id or "", block.name or "", args)


def _decode_thinking(block: w.Block, losses: list[c.Loss]) -> c.Block | None:
    sig = c.OpaqueState(FMT, block.signature) if block.signature else None
    return c.Reasoning(block.thinking or "", sig)


def _decode_redacted(block: w.Block, losses: list[c.Loss]) -> c.Block | None:
    return c.Reasoning("", c.OpaqueState(FMT, block.data or "", redacted=True))


def _decode_image(block: w.Block, losses: list[c.Loss]) -> c.Block | None:
    cache = block.cache_control is not None
    src = block.source
    if src is None or src.type not in ("base64", "url"):
        c.loss(losses, "content.image.source", FMT, FMT, "only base64 and url images are carried")
        return None
    if src.type == "url":
        return c.Image(url=src.url or "", cache=cache)
    return c.Image(data=src.data or "", media_type=src.media_type or "", cache=cache)


def _decode_result(block: w.Block, losses: list[c.Loss]) -> c.Block | None:
    cache = block.cache_control is not None
    content: list[c.Text | c.Image] = []
    if isinstance(block.content, str):
        content.append(c.Text(block.content))
    for part in block.content if isinstance(block.content, list) else []:
        inner = decode_block(part, losses)
        if isinstance(inner, c.Text | c.Image):
            content.append(inner)
    return c.ToolResult(block.tool_use_id or "", content, bool(block.is_error), cache=cache)


_DECODERS: dict[str, Callable[[w.Block, list[c.Loss]], c.Block | None]] = {
    "text": _decode_text,
    "image": _decode_image,
    "tool_use": _decode_tool_use,
    "tool_result": _decode_result,
    "thinking": _decode_thinking,
    "redacted_thinking": _decode_redacted,
}


def decode_blocks(content: str | list[w.Block] | None, losses: list[c.Loss]) -> list[c.Block]:
    if isinstance(content, str):
        return [c.Text(content)]
    blocks = (decode_block(b, losses) for b in content or [])
    return [b for b in blocks if b is not None]


def encode_block(block: c.Block, origin: WireFormat, losses: list[c.Loss]) -> dict[str, Any] | None:
    """One canonical block as Anthropic JSON; None when it must be dropped here."""
    match block:
        case c.Text():
            return (
                _cached({"type": "text", "text": block.text}, block.cache) if block.text else None
            )
        case c.Image():
            return _cached({"type": "image", "source": _source(block)}, block.cache)
        case c.ToolCall():
            args = jsonio.object_or_empty(block.arguments)
            return {"type": "tool_use", "id": safe_id(block.id), "name": block.name, "input": args}
        case c.ToolResult():
            return _encode_result(block, origin, losses)
        case c.Reasoning():
            return _encode_reasoning(block, origin, losses)


def _source(image: c.Image) -> dict[str, Any]:
    if image.url:
        return {"type": "url", "url": image.url}
    return {"type": "base64", "media_type": image.media_type or "image/png", "data": image.data}


def _encode_result(block: c.ToolResult, origin: WireFormat, losses: list[c.Loss]) -> dict[str, Any]:
    parts = [encode_block(b, origin, losses) for b in block.content]
    content: str | list[dict[str, Any]] = [p for p in parts if p is not None]
    if all(isinstance(b, c.Text) for b in block.content):
        content = c.text_of(block.content)
    out: dict[str, Any] = {"type": "tool_result", "tool_use_id": safe_id(block.call_id)}
    out["content"] = content
    if block.is_error:
        out["is_error"] = True
    return _cached(out, block.cache)


def _encode_reasoning(
    block: c.Reasoning, origin: WireFormat, losses: list[c.Loss]
) -> dict[str, Any] | None:
    opaque = block.opaque
    if opaque is not None and opaque.origin == FMT:
        if opaque.redacted:
            return {"type": "redacted_thinking", "data": opaque.data}
        return {"type": "thinking", "thinking": block.text, "signature": opaque.data}
    if opaque is not None:
        c.opaque_loss(losses, opaque.origin, FMT)
    if block.text:
        c.loss(losses, "reasoning.text", origin, FMT, "Anthropic only accepts signed thinking")
    return None


def response_block(block: c.Block, losses: list[c.Loss]) -> dict[str, Any] | None:
    """A block of a response *to* an Anthropic client: unsigned thinking is shown as is."""
    if not isinstance(block, c.Reasoning):
        return encode_block(block, FMT, losses)
    opaque = block.opaque
    if opaque is not None and opaque.origin == FMT:
        return _encode_reasoning(block, FMT, losses)
    if opaque is not None:
        c.opaque_loss(losses, opaque.origin, FMT)
    if not block.text:
        return None
    return {"type": "thinking", "thinking": block.text, "signature": ""}


def _cached(out: dict[str, Any], cache: bool) -> dict[str, Any]:
    if cache:
        out["cache_control"] = EPHEMERAL
    return out
