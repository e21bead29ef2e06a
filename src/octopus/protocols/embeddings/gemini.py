"""Gemini `models/{m}:embedContent` and `:batchEmbedContents`: request and response both ways."""

from __future__ import annotations

from typing import Any

import msgspec

from octopus.errors import CannotServe, UpstreamProtocol
from octopus.protocols import canonical as c
from octopus.protocols import jsonio
from octopus.protocols.embeddings.canon import EmbedInput, EmbedRequest, EmbedResponse
from octopus.protocols.gemini.wire import Content

EMBED = "embedContent"
BATCH = "batchEmbedContents"


class Request(msgspec.Struct, rename="camel"):
    content: Content
    model: str | None = None
    task_type: str | None = None
    title: str | None = None
    output_dimensionality: int | None = None


class BatchRequest(msgspec.Struct):
    requests: list[Request]


class Values(msgspec.Struct):
    values: list[float] = msgspec.field(default_factory=list)


class UsageWire(msgspec.Struct, rename="camel"):
    prompt_token_count: int = 0
    total_token_count: int = 0


class Response(msgspec.Struct, rename="camel"):
    embedding: Values | None = None
    embeddings: list[Values] | None = None
    usage_metadata: UsageWire | None = None


def decode_request(body: bytes, *, batch: bool) -> EmbedRequest:
    """A Gemini client's request, for an OpenAI upstream (text only, one dimensionality)."""
    if batch:
        wires = jsonio.client_body(body, BatchRequest, "batchEmbedContents request").requests
    else:
        wires = [jsonio.client_body(body, Request, "embedContent request")]
    if not wires:
        raise CannotServe("requests must not be empty")
    dimensions = {w.output_dimensionality for w in wires}
    if len(dimensions) > 1:
        raise CannotServe("an OpenAI channel takes one outputDimensionality for the whole batch")
    first = wires[0]
    return EmbedRequest(
        [EmbedInput(text=_text(w.content)) for w in wires],
        single=not batch,
        dimensions=dimensions.pop(),
        task_type=first.task_type,
        title=first.title,
    )


def _text(content: Content) -> str:
    parts = content.parts or []
    if any(p.text is None for p in parts):
        raise CannotServe("only text parts can be embedded through an OpenAI channel")
    return "\n".join(p.text or "" for p in parts)


def encode_request(req: EmbedRequest, model: str) -> tuple[str, bytes]:
    """(action, body): one input goes to embedContent, a list to batchEmbedContents."""
    if any(i.tokens is not None for i in req.inputs):
        raise CannotServe("a Gemini channel cannot embed token arrays; send text")
    requests = [_one(i.text or "", model, req.dimensions) for i in req.inputs]
    if req.single:
        return EMBED, jsonio.encode(requests[0])
    return BATCH, jsonio.encode({"requests": requests})


def _one(text: str, model: str, dimensions: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"model": f"models/{model}", "content": {"parts": [{"text": text}]}}
    if dimensions is not None:
        out["outputDimensionality"] = dimensions
    return out


def decode_response(body: bytes) -> EmbedResponse:
    wire = jsonio.upstream_body(body, Response, "embeddings response")
    values = wire.embeddings if wire.embeddings is not None else [wire.embedding or Values()]
    return EmbedResponse([v.values for v in values], usage=_usage(wire.usage_metadata))


def encode_response(resp: EmbedResponse, *, batch: bool) -> bytes:
    out: dict[str, Any] = {}
    if batch:
        out["embeddings"] = [{"values": v} for v in resp.vectors]
    else:
        out["embedding"] = {"values": resp.vectors[0] if resp.vectors else []}
    if resp.usage is not None:
        tokens = resp.usage.input_tokens
        out["usageMetadata"] = {"promptTokenCount": tokens, "totalTokenCount": tokens}
    return jsonio.encode(out)


def usage_from_response(body: bytes) -> c.Usage | None:
    try:
        return _usage(msgspec.json.decode(body, type=Response).usage_metadata)
    except msgspec.ValidationError:
        return None  # JSON, but not the usual shape: the usage is estimated
    except msgspec.DecodeError:
        raise UpstreamProtocol("upstream answered 200 with a non-JSON body") from None


def _usage(wire: UsageWire | None) -> c.Usage | None:
    if wire is None or not (wire.prompt_token_count or wire.total_token_count):
        return None
    return c.Usage(input_tokens=wire.prompt_token_count or wire.total_token_count)


def with_model(body: bytes, model: str) -> bytes:
    """A Gemini client's body for another model: each request names it (`models/{model}`)."""
    doc = jsonio.client_body(body, dict[str, Any], "embeddings request")
    name = f"models/{model}"
    requests = doc.get("requests")
    if isinstance(requests, list):
        for item in requests:
            if isinstance(item, dict):
                item["model"] = name
    elif "model" in doc:
        doc["model"] = name
    return jsonio.encode(doc)
