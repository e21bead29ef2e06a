"""The canonical model: provider-neutral requests, responses and content blocks.

Conventions, normalised once by every decoder and undone by every encoder:

* Usage: ``input_tokens`` counts *all* prompt tokens, cache reads and cache writes included
  (OpenAI, Responses and Gemini already count this way; Anthropic's ``input_tokens`` excludes
  both, so its codec adds ``cache_read_input_tokens`` and ``cache_creation_input_tokens`` on
  decode and subtracts them on encode). ``cache_read_tokens`` and ``cache_write_tokens`` are
  subsets of ``input_tokens``. ``output_tokens`` counts every generated token including
  reasoning; ``reasoning_tokens`` is a subset of it (Gemini's ``candidatesTokenCount`` excludes
  thoughts, so its codec adds ``thoughtsTokenCount``).
* Tool call arguments are JSON text (what OpenAI sends), never a parsed object.
* Opaque reasoning (Anthropic signatures and redacted thinking, Responses encrypted content,
  Gemini thought signatures) rides in ``Reasoning.opaque`` and is only re-emitted to its origin.
  A Gemini signature that was attached to a non-thought part becomes an empty ``Reasoning``
  block placed right before the block it belonged to.
* Tool results live in ``user`` messages (the Anthropic shape); a ``system`` message inside
  ``messages`` is an instruction given mid-conversation (OpenAI, Responses developer items,
  Anthropic ``role: "system"`` as Claude Code sends it).
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from octopus.protocols.formats import WireFormat

Role = Literal["user", "assistant", "system"]
StopReason = Literal[
    "end", "length", "tool_use", "stop_sequence", "content_filter", "refusal", "pause", "error"
]
Effort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]


class Loss(msgspec.Struct, frozen=True):
    """Something a codec could not carry from `source` to `target`, and why."""

    field: str
    source: WireFormat
    target: WireFormat
    reason: str


class OpaqueState(msgspec.Struct, frozen=True):
    """Provider-private reasoning state; only meaningful to the format that produced it."""

    origin: WireFormat
    data: str
    id: str = ""
    redacted: bool = False


class Text(msgspec.Struct, tag="text", tag_field="type"):
    text: str
    cache: bool = False


class Image(msgspec.Struct, tag="image", tag_field="type"):
    """An image by URL, or inline base64 `data` with its media type."""

    url: str = ""
    data: str = ""
    media_type: str = ""
    cache: bool = False

    @classmethod
    def from_url(cls, url: str) -> Image:
        """A `data:` URL becomes inline base64; anything else stays a URL."""
        head, sep, data = url.partition(",")
        if sep and head.startswith("data:") and head.endswith(";base64"):
            return cls(data=data, media_type=head[5:-7])
        return cls(url=url)

    def as_url(self) -> str:
        return self.url or f"data:{self.media_type or 'image/png'};base64,{self.data}"


class ToolCall(msgspec.Struct, tag="tool_call", tag_field="type"):
    id: str
    name: str
    arguments: str = "{}"


class ToolResult(msgspec.Struct, tag="tool_result", tag_field="type"):
    call_id: str
    content: list[Text | Image] = msgspec.field(default_factory=list)
    is_error: bool = False
    name: str = ""
    cache: bool = False


class Reasoning(msgspec.Struct, tag="reasoning", tag_field="type"):
    text: str = ""
    opaque: OpaqueState | None = None


Block = Text | Image | ToolCall | ToolResult | Reasoning


class Message(msgspec.Struct):
    role: Role
    content: list[Block] = msgspec.field(default_factory=list)


class Tool(msgspec.Struct):
    name: str
    description: str = ""
    parameters: dict[str, Any] = msgspec.field(default_factory=dict)
    strict: bool | None = None
    cache: bool = False
    defer_loading: bool = False


class ToolChoice(msgspec.Struct):
    mode: Literal["auto", "none", "required", "tool"] = "auto"
    name: str = ""


class Sampling(msgspec.Struct):
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_output_tokens: int | None = None
    stop: list[str] = msgspec.field(default_factory=list)
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None


class ReasoningConfig(msgspec.Struct):
    """What the client asked of the model's thinking.

    `budget` is in tokens; -1 means adaptive/dynamic (Anthropic ``adaptive``, Gemini -1) and 0
    means off. `effort` is the OpenAI scale. Encoders derive one from the other when needed.
    """

    effort: Effort | None = None
    budget: int | None = None
    summary: str | None = None
    include_thoughts: bool | None = None


class ResponseFormat(msgspec.Struct):
    type: Literal["text", "json_object", "json_schema"] = "text"
    name: str = ""
    schema: dict[str, Any] | None = None
    strict: bool | None = None
    description: str = ""


class CanonRequest(msgspec.Struct):
    model: str
    origin: WireFormat
    messages: list[Message] = msgspec.field(default_factory=list)
    system: list[Text] = msgspec.field(default_factory=list)
    tools: list[Tool] = msgspec.field(default_factory=list)
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    sampling: Sampling = msgspec.field(default_factory=Sampling)
    stream: bool = False
    reasoning: ReasoningConfig | None = None
    response_format: ResponseFormat | None = None
    user: str | None = None
    cache_key: str | None = None
    # top-level fields with no canonical meaning, re-emitted only when target == origin
    extras: dict[str, msgspec.Raw] = msgspec.field(default_factory=dict)
    losses: list[Loss] = msgspec.field(default_factory=list)


class Usage(msgspec.Struct):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class ErrorInfo(msgspec.Struct):
    message: str
    status: int = 500
    kind: str = "internal"


class CanonResponse(msgspec.Struct):
    id: str = ""
    model: str = ""
    content: list[Block] = msgspec.field(default_factory=list)
    stop_reason: StopReason | None = None
    stop_sequence: str | None = None
    usage: Usage = msgspec.field(default_factory=Usage)
    created: int = 0
    error: ErrorInfo | None = None


def text_of(blocks: list[Block] | list[Text] | list[Text | Image]) -> str:
    """The concatenated text of the Text blocks (images and calls are skipped)."""
    return "".join(b.text for b in blocks if isinstance(b, Text))


def loss(losses: list[Loss], field: str, source: WireFormat, target: WireFormat, why: str) -> None:
    """Record a loss once per field and direction (a long history would repeat it)."""
    item = Loss(field=field, source=source, target=target, reason=why)
    if item not in losses:
        losses.append(item)


def opaque_loss(losses: list[Loss], source: WireFormat, target: WireFormat) -> None:
    loss(
        losses,
        "reasoning.opaque",
        source,
        target,
        "signatures and encrypted reasoning only return to their origin",
    )
