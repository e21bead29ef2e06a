"""OpenAI Chat Completions wire shapes (msgspec structs), tolerant of nulls and unknown fields."""

from __future__ import annotations

from typing import Any

import msgspec


class ImageUrl(msgspec.Struct):
    url: str
    detail: str | None = None


class Part(msgspec.Struct):
    type: str
    text: str | None = None
    image_url: ImageUrl | str | None = None


class FunctionCall(msgspec.Struct):
    name: str = ""
    arguments: str | None = None


class ToolCall(msgspec.Struct):
    function: FunctionCall
    id: str | None = None
    type: str | None = None


class Message(msgspec.Struct):
    role: str
    content: str | list[Part] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None
    refusal: str | None = None


class FunctionDef(msgspec.Struct):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(msgspec.Struct):
    type: str = "function"
    function: FunctionDef | None = None


class NamedFunction(msgspec.Struct):
    name: str


class NamedChoice(msgspec.Struct):
    type: str = "function"
    function: NamedFunction | None = None


class JsonSchema(msgspec.Struct):
    name: str = ""
    schema: dict[str, Any] | None = None
    strict: bool | None = None
    description: str | None = None


class ResponseFormat(msgspec.Struct):
    type: str
    json_schema: JsonSchema | None = None


class StreamOptions(msgspec.Struct):
    include_usage: bool | None = None


class Request(msgspec.Struct):
    model: str
    messages: list[Message]
    tools: list[Tool] | None = None
    tool_choice: str | NamedChoice | None = None
    parallel_tool_calls: bool | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    reasoning_effort: str | None = None
    response_format: ResponseFormat | None = None
    user: str | None = None
    prompt_cache_key: str | None = None


class PromptDetails(msgspec.Struct):
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None


class CompletionDetails(msgspec.Struct):
    reasoning_tokens: int | None = None


class Usage(msgspec.Struct):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_tokens_details: PromptDetails | None = None
    completion_tokens_details: CompletionDetails | None = None
    # DeepSeek reports cache hits here instead of prompt_tokens_details
    prompt_cache_hit_tokens: int | None = None


class Choice(msgspec.Struct):
    message: Message | None = None
    index: int = 0
    finish_reason: str | None = None


class Response(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    created: int | None = None
    choices: list[Choice] | None = None
    usage: Usage | None = None


class FunctionDelta(msgspec.Struct):
    name: str | None = None
    arguments: str | None = None


class ToolCallDelta(msgspec.Struct):
    index: int = 0
    id: str | None = None
    function: FunctionDelta | None = None


class Delta(msgspec.Struct):
    content: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCallDelta] | None = None
    refusal: str | None = None


class ChunkChoice(msgspec.Struct):
    index: int = 0
    delta: Delta | None = None
    finish_reason: str | None = None


class ErrorBody(msgspec.Struct):
    message: str | None = None
    type: str | None = None
    code: str | int | None = None
    param: str | None = None


class ChunkBody(msgspec.Struct):
    """A chunk after the first: its id, model and created repeat the first's, left unread."""

    choices: list[ChunkChoice] | None = None
    usage: Usage | None = None
    error: ErrorBody | None = None


class Chunk(ChunkBody):
    id: str | None = None
    model: str | None = None
    created: int | None = None


class ErrorEnvelope(msgspec.Struct):
    error: ErrorBody | str | None = None
    message: str | None = None


class UsageOnly(msgspec.Struct):
    usage: Usage | None = None
