"""The fake upstream's embeddings: OpenAI `/v1/embeddings`, Gemini `:embedContent` and
`:batchEmbedContents`.

Each input gets `vector_for(text, dimensions)`: exact float32 values that name the text (its
length and first character), so a test can check which vector answers which input and that the
order held. OpenAI answers honour `encoding_format: base64`; both report token usage
(`tokens_for(text)` per input) unless the fault's headers carry `x-fake-no-usage`.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

from aiohttp import web

from octopus.protocols import WireFormat
from tests.fakes import payloads

DEFAULT_DIMENSIONS = 8
NO_USAGE = "x-fake-no-usage"  # a Fault header: answer without usage


def is_embeddings(path: str) -> bool:
    return path.endswith(("/embeddings", ":embedContent", ":batchEmbedContents"))


def vector_for(text: str, dimensions: int | None = None) -> list[float]:
    size = dimensions or DEFAULT_DIMENSIONS
    head = [float(len(text)), float(ord(text[0])) if text else 0.0]
    return (head + [0.25 * i for i in range(1, size)])[:size]


def tokens_for(text: str) -> int:
    return len(text.split()) + 1


def base64_of(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def reply(
    path: str, body: bytes, status: int, headers: dict[str, str], error: bytes | None = None
) -> web.Response:
    """One embeddings call's answer; `status` (with `error` as its body) from the fault."""
    gemini = ":" in path
    extra = {k: v for k, v in headers.items() if k.lower() != NO_USAGE}
    if status:
        kind = WireFormat.GEMINI if gemini else WireFormat.OPENAI_CHAT
        data = error if error is not None else payloads.error_body(kind, status)
    else:
        usage = NO_USAGE not in {k.lower() for k in headers}
        doc = json.loads(body)
        answer = _gemini(path, doc, usage) if gemini else _openai(doc, usage)
        data = json.dumps(answer).encode()
    return web.Response(
        status=status or 200, body=data, headers={"Content-Type": "application/json", **extra}
    )


def _openai(doc: dict[str, Any], usage: bool) -> dict[str, Any]:
    raw = doc["input"]
    texts = [raw] if isinstance(raw, str) else raw
    if texts and not isinstance(texts[0], str):  # token ids: name them by their count
        texts = ["t" * (len(t) if isinstance(t, list) else 1) for t in texts]
    dims = doc.get("dimensions")
    as_base64 = doc.get("encoding_format") == "base64"
    data = []
    for index, text in enumerate(texts):
        values = vector_for(text, dims)
        data.append(
            {
                "object": "embedding",
                "index": index,
                "embedding": base64_of(values) if as_base64 else values,
            }
        )
    out: dict[str, Any] = {"object": "list", "data": data, "model": doc["model"]}
    if usage:
        tokens = sum(tokens_for(t) for t in texts)
        out["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
    return out


def _gemini(path: str, doc: dict[str, Any], usage: bool) -> dict[str, Any]:
    requests = doc["requests"] if path.endswith(":batchEmbedContents") else [doc]
    texts = ["".join(p.get("text", "") for p in r["content"]["parts"]) for r in requests]
    vectors = [
        {"values": vector_for(t, r.get("outputDimensionality"))}
        for t, r in zip(texts, requests, strict=True)
    ]
    out: dict[str, Any] = (
        {"embeddings": vectors}
        if path.endswith(":batchEmbedContents")
        else {"embedding": vectors[0]}
    )
    if usage:
        tokens = sum(tokens_for(t) for t in texts)
        out["usageMetadata"] = {"promptTokenCount": tokens, "totalTokenCount": tokens}
    return out
