"""Anthropic Messages wire shapes (msgspec structs), one flat Block for every content type."""

from __future__ import annotations

from typing import Any

import msgspec


class CacheControl(msgspec.Struct):
    type: str = "ephemeral"


class Source(msgspec.Struct):
    type: str
    media_type: str | None = None
    data: str | None = None
    url: str | None = None


class Block(msgspec.Struct):
    """Every content block type in one flat shape, so unknown types decode and can be skipped."""

    type: str
    text: str | None = None
    source: Source | None = None
    id: str | None = None
    name: str | None = None
    input: Any = None
    tool_use_id: str | None = None
    content: str | list[Block] | None = None
    is_error: bool | None = None
    thinking: str | None = None
    signature: str | None = None
    data: str | None = None
    cache_control: CacheControl | None = None


class Message(msgspec.Struct):
    role: str
    content: str | list[Block]


class Tool(msgspec.Struct):
    name: str
    type: str | None = None
    description: str | None = None
    input_schema: dict[str, Any] | None = None
    cache_control: CacheControl | None = None
    defer_loading: bool | None = None


class ToolChoice(msgspec.Struct):
    type: str
    name: str | None = None
    disable_parallel_tool_use: bool | None = None


class Thinking(msgspec.Struct):
    type: str
    budget_tokens: int | None = None
    display: str | None = None


class OutputConfig(msgspec.Struct):
    effort: str | None = None


class Metadata(msgspec.Struct):
    user_id: str | None = None


class Request(msgspec.Struct):
    model: str
    messages: list[Message]
    max_tokens: int | None = None
    system: str | list[Block] | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop_sequences: list[str] | None = None
    stream: bool | None = None
    thinking: Thinking | None = None
    output_config: OutputConfig | None = None
    metadata: Metadata | None = None


class Usage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None


class Response(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    content: list[Block] | None = None
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: Usage | None = None


class Delta(msgspec.Struct):
    type: str | None = None
    text: str | None = None
    partial_json: str | None = None
    thinking: str | None = None
    signature: str | None = None
    stop_reason: str | None = None
    stop_sequence: str | None = None


class ErrorBody(msgspec.Struct):
    type: str | None = None
    message: str | None = None


class StreamEvent(msgspec.Struct):
    type: str
    message: Response | None = None
    index: int | None = None
    content_block: Block | None = None
    delta: Delta | None = None
    usage: Usage | None = None
    error: ErrorBody | None = None


class ErrorEnvelope(msgspec.Struct):
    error: ErrorBody | None = None
    type: str | None = None


class UsageOnly(msgspec.Struct):
    usage: Usage | None = None
    message: UsageHolder | None = None


class UsageHolder(msgspec.Struct):
    usage: Usage | None = None
