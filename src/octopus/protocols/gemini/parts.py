"""Gemini parts ↔ canonical blocks, shared by requests, responses and streams.

Gemini calls carry no id (or an optional one): decoders mint ids and pair each
functionResponse with the oldest unanswered call of the same name.
"""

from __future__ import annotations

import mimetypes
import uuid
from typing import Any

from octopus.protocols import canonical as c
from octopus.protocols import jsonio
from octopus.protocols.formats import WireFormat
from octopus.protocols.gemini import wire as w

FMT = WireFormat.GEMINI
# Gemini 3 rejects replayed calls without a signature; this documented value opts out of the check
SKIP_SIGNATURE = "skip_thought_signature_validator"
_RESULT_KEYS = ("result", "output", "content")


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


class PartDecoder:
    """Decodes parts in conversation order, keeping call ids paired with their responses."""

    def __init__(self, losses: list[c.Loss], mint: bool = False) -> None:
        self.losses = losses
        self._mint = mint  # random ids for model output; sequential ids inside a request
        self._count = 0
        self._pending: dict[str, list[str]] = {}  # function name → unanswered call ids

    def blocks(self, parts: list[w.Part] | None) -> list[c.Block]:
        out: list[c.Block] = []
        for part in parts or []:
            out.extend(self.part(part))
        return out

    def part(self, part: w.Part) -> list[c.Block]:
        signature = c.OpaqueState(FMT, part.thought_signature) if part.thought_signature else None
        if part.thought:
            return [c.Reasoning(part.text or "", signature)]
        block = self._block(part)
        lead: list[c.Block] = [c.Reasoning("", signature)] if signature else []
        return lead + ([block] if block is not None else [])

    def call_id(self, call: w.FunctionCall) -> str:
        if call.id:
            call_id = call.id
        elif self._mint:
            call_id = new_call_id()
        else:
            self._count += 1
            call_id = f"call_{self._count}"
        self._pending.setdefault(call.name or "", []).append(call_id)
        return call_id

    def _block(self, part: w.Part) -> c.Block | None:
        if part.text is not None:
            return c.Text(part.text) if part.text else None
        if part.function_call is not None:
            call = part.function_call
            args = jsonio.encode(call.args or {}).decode()
            return c.ToolCall(self.call_id(call), call.name or "", args)
        if part.function_response is not None:
            return self._result(part.function_response)
        return self._media(part)

    def _result(self, resp: w.FunctionResponse) -> c.ToolResult:
        queue = self._pending.get(resp.name, [])
        call_id = resp.id or (queue.pop(0) if queue else f"call_{resp.name}")
        body = resp.response or {}
        is_error = list(body) == ["error"]
        text = _unwrap(body, is_error)
        return c.ToolResult(call_id, [c.Text(text)], is_error, name=resp.name)

    def _media(self, part: w.Part) -> c.Block | None:
        if part.inline_data is not None and part.inline_data.mime_type.startswith("image/"):
            data = _standard_base64(part.inline_data.data)
            return c.Image(data=data, media_type=part.inline_data.mime_type)
        if part.file_data is not None and (part.file_data.mime_type or "image/").startswith(
            "image/"
        ):
            return c.Image(url=part.file_data.file_uri, media_type=part.file_data.mime_type or "")
        c.loss(self.losses, "parts.media", FMT, FMT, "only image data and files are carried")
        return None


def _standard_base64(data: str) -> str:
    """Gemini also takes URL-safe base64 (google-genai sends it); other providers do not."""
    return data.replace("-", "+").replace("_", "/")


def _unwrap(body: dict[str, Any], is_error: bool) -> str:
    """{"result": "text"} becomes "text"; any other object is kept as JSON text."""
    if is_error and isinstance(body["error"], str):
        return body["error"]
    if (
        len(body) == 1
        and next(iter(body)) in _RESULT_KEYS
        and isinstance(next(iter(body.values())), str)
    ):
        return str(next(iter(body.values())))
    return jsonio.encode(body).decode()


def result_body(block: c.ToolResult) -> dict[str, Any]:
    text = c.text_of(block.content)
    if block.is_error:
        return {"error": text}
    parsed = jsonio.loads_or_none(text) if text.startswith("{") else None
    return parsed if isinstance(parsed, dict) else {"result": text}


class PartEncoder:
    """Encodes blocks as parts; a signature-only Reasoning block signs the next part."""

    def __init__(self, origin: WireFormat, losses: list[c.Loss], *, output: bool = False) -> None:
        self.origin = origin
        self.losses = losses
        self._output = output  # a response to a Gemini client shows foreign reasoning as thoughts
        self._names: dict[str, str] = {}  # call id → function name, for functionResponse
        self._signature: str | None = None

    def parts(self, blocks: list[c.Block]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for block in blocks:
            part = self.part(block)
            if part is not None:
                out.append(part)
        return out

    def flush(self) -> list[dict[str, Any]]:
        """A signature no part claimed travels on an empty text part, as Gemini sends it."""
        if self._signature is None:
            return []
        part = {"text": "", "thoughtSignature": self._signature}
        self._signature = None
        return [part]

    def part(self, block: c.Block) -> dict[str, Any] | None:
        if getattr(block, "cache", False):
            c.loss(
                self.losses, "cache_control", self.origin, FMT, "caching hints are Anthropic-only"
            )
        out = self._part(block)
        if out is not None and self._signature is not None:
            out["thoughtSignature"] = self._signature
            self._signature = None
        return out

    def _part(self, block: c.Block) -> dict[str, Any] | None:
        match block:
            case c.Text():
                return {"text": block.text} if block.text else None
            case c.Image():
                return _image(block)
            case c.ToolCall():
                self._names[block.id] = block.name
                call = {"name": block.name, "args": jsonio.object_or_empty(block.arguments)}
                return {"functionCall": call}
            case c.ToolResult():
                return self._result(block)
            case c.Reasoning():
                return self._reasoning(block)

    def _result(self, block: c.ToolResult) -> dict[str, Any]:
        if any(isinstance(b, c.Image) for b in block.content):
            c.loss(
                self.losses, "tool_result.image", self.origin, FMT, "function responses are JSON"
            )
        name = block.name or self._names.get(block.call_id, block.call_id)
        return {"functionResponse": {"name": name, "response": result_body(block)}}

    def _reasoning(self, block: c.Reasoning) -> dict[str, Any] | None:
        opaque = block.opaque
        if opaque is not None and opaque.origin == FMT:
            if not block.text:
                self._signature = opaque.data
                return None
            return {"text": block.text, "thought": True, "thoughtSignature": opaque.data}
        if opaque is not None:
            c.opaque_loss(self.losses, opaque.origin, FMT)
        if block.text and self._output:
            return {"text": block.text, "thought": True}
        if block.text:
            c.loss(
                self.losses,
                "reasoning.text",
                self.origin,
                FMT,
                "unsigned thoughts are not replayed",
            )
        return None


def _image(block: c.Image) -> dict[str, Any]:
    if block.url:
        guessed = mimetypes.guess_type(block.url)[0] or "image/jpeg"
        return {"fileData": {"fileUri": block.url, "mimeType": block.media_type or guessed}}
    return {"inlineData": {"mimeType": block.media_type or "image/png", "data": block.data}}
