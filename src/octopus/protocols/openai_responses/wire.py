"""OpenAI Responses wire shapes (msgspec structs): one flat Item and Part for every type."""

from __future__ import annotations

from typing import Any

import msgspec


class Part(msgspec.Struct):
    type: str
    text: str | None = None
    image_url: str | None = None
    file_id: str | None = None
    refusal: str | None = None


class Item(msgspec.Struct):
    """Every input/output item type in one flat shape; `type` is absent on easy messages."""

    type: str | None = None
    role: str | None = None
    content: str | list[Part] | None = None
    id: str | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    output: str | list[Part] | None = None
    summary: list[Part] | None = None
    encrypted_content: str | None = None
    status: str | None = None


class Tool(msgspec.Struct):
    type: str
    name: str | None = None
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None
    tools: list[Tool] | None = None


class NamedChoice(msgspec.Struct):
    type: str
    name: str | None = None


class ReasoningParam(msgspec.Struct):
    effort: str | None = None
    summary: str | None = None


class Format(msgspec.Struct):
    type: str
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None
    description: str | None = None


class TextParam(msgspec.Struct):
    format: Format | None = None


class Request(msgspec.Struct):
    model: str
    input: str | list[Item] | None = None
    instructions: str | None = None
    tools: list[Tool] | None = None
    tool_choice: str | NamedChoice | None = None
    parallel_tool_calls: bool | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    stream: bool | None = None
    reasoning: ReasoningParam | None = None
    text: TextParam | None = None
    user: str | None = None
    prompt_cache_key: str | None = None


class InputDetails(msgspec.Struct):
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None


class OutputDetails(msgspec.Struct):
    reasoning_tokens: int | None = None


class Usage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None
    input_tokens_details: InputDetails | None = None
    output_tokens_details: OutputDetails | None = None


class ErrorBody(msgspec.Struct):
    message: str | None = None
    code: str | None = None
    type: str | None = None


class IncompleteDetails(msgspec.Struct):
    reason: str | None = None


class Response(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    created_at: int | None = None
    status: str | None = None
    output: list[Item] | None = None
    usage: Usage | None = None
    error: ErrorBody | None = None
    incomplete_details: IncompleteDetails | None = None


class StreamEvent(msgspec.Struct):
    type: str
    response: Response | None = None
    output_index: int | None = None
    content_index: int | None = None
    summary_index: int | None = None
    item: Item | None = None
    part: Part | None = None
    delta: str | None = None
    arguments: str | None = None
    message: str | None = None
    code: str | None = None
    error: ErrorBody | None = None


class UsageOnly(msgspec.Struct):
    usage: Usage | None = None
    response: UsageHolder | None = None


class UsageHolder(msgspec.Struct):
    usage: Usage | None = None
