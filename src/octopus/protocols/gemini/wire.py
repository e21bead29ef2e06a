"""Gemini generateContent wire shapes (msgspec structs, camelCase on the wire)."""

from __future__ import annotations

from typing import Any

import msgspec


class Blob(msgspec.Struct, rename="camel"):
    mime_type: str = ""
    data: str = ""


class FileData(msgspec.Struct, rename="camel"):
    file_uri: str = ""
    mime_type: str | None = None


class PartialArg(msgspec.Struct, rename="camel"):
    json_path: str = ""
    string_value: str | None = None
    number_value: float | None = None
    bool_value: bool | None = None
    null_value: Any = None
    will_continue: bool | None = None


class FunctionCall(msgspec.Struct, rename="camel"):
    name: str | None = None
    args: dict[str, Any] | None = None
    id: str | None = None
    partial_args: list[PartialArg] | None = None
    will_continue: bool | None = None


class FunctionResponse(msgspec.Struct, rename="camel"):
    name: str = ""
    response: dict[str, Any] | None = None
    id: str | None = None


class Part(msgspec.Struct, rename="camel"):
    text: str | None = None
    thought: bool | None = None
    thought_signature: str | None = None
    inline_data: Blob | None = None
    file_data: FileData | None = None
    function_call: FunctionCall | None = None
    function_response: FunctionResponse | None = None


class Content(msgspec.Struct, rename="camel"):
    role: str | None = None
    parts: list[Part] | None = None


class FunctionDeclaration(msgspec.Struct, rename="camel"):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    parameters_json_schema: dict[str, Any] | None = None


class Tool(msgspec.Struct, rename="camel"):
    function_declarations: list[FunctionDeclaration] | None = None


class FunctionCallingConfig(msgspec.Struct, rename="camel"):
    mode: str | None = None
    allowed_function_names: list[str] | None = None


class ToolConfig(msgspec.Struct, rename="camel"):
    function_calling_config: FunctionCallingConfig | None = None


class ThinkingConfig(msgspec.Struct, rename="camel"):
    thinking_budget: int | None = None
    thinking_level: str | None = None
    include_thoughts: bool | None = None


class GenerationConfig(msgspec.Struct, rename="camel"):
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_output_tokens: int | None = None
    stop_sequences: list[str] | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    response_mime_type: str | None = None
    response_schema: dict[str, Any] | None = None
    response_json_schema: dict[str, Any] | None = None
    thinking_config: ThinkingConfig | None = None


class Request(msgspec.Struct, rename="camel"):
    contents: list[Content]
    system_instruction: Content | None = None
    tools: list[Tool] | None = None
    tool_config: ToolConfig | None = None
    generation_config: GenerationConfig | None = None


class UsageMetadata(msgspec.Struct, rename="camel"):
    prompt_token_count: int | None = None
    candidates_token_count: int | None = None
    cached_content_token_count: int | None = None
    thoughts_token_count: int | None = None
    tool_use_prompt_token_count: int | None = None


class Candidate(msgspec.Struct, rename="camel"):
    content: Content | None = None
    finish_reason: str | None = None
    index: int | None = None


class PromptFeedback(msgspec.Struct, rename="camel"):
    block_reason: str | None = None


class ErrorBody(msgspec.Struct):
    code: int | None = None
    message: str | None = None
    status: str | None = None
    details: list[dict[str, Any]] | None = None


class ResponseBody(msgspec.Struct, rename="camel"):
    """A streamed chunk after the first: its model version and id repeat, left unread."""

    candidates: list[Candidate] | None = None
    usage_metadata: UsageMetadata | None = None
    prompt_feedback: PromptFeedback | None = None
    error: ErrorBody | None = None


class Response(ResponseBody, rename="camel"):
    model_version: str | None = None
    response_id: str | None = None


class ErrorEnvelope(msgspec.Struct):
    error: ErrorBody | None = None


class UsageOnly(msgspec.Struct, rename="camel"):
    usage_metadata: UsageMetadata | None = None
