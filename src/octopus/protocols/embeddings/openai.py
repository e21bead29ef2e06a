"""OpenAI `POST /v1/embeddings`: request and response in both directions."""

from __future__ import annotations

from typing import Any

import msgspec

from octopus.errors import BadRequest, UpstreamProtocol
from octopus.protocols import canonical as c
from octopus.protocols import jsonio
from octopus.protocols.embeddings.canon import EmbedInput, EmbedRequest, EmbedResponse
from octopus.protocols.embeddings.vectors import from_base64, to_base64

_INPUT_SHAPES = "a string, an array of strings, an array of tokens or an array of token arrays"


class Request(msgspec.Struct):
    input: str | list[Any]
    model: str = ""
    encoding_format: str | None = None
    dimensions: int | None = None
    user: str | None = None


class UsageWire(msgspec.Struct):
    prompt_tokens: int = 0
    total_tokens: int = 0


class Item(msgspec.Struct):
    embedding: list[float] | str
    index: int = 0


class Response(msgspec.Struct):
    data: list[Item]
    model: str = ""
    usage: UsageWire | None = None


class UsageOnly(msgspec.Struct):
    usage: UsageWire | None = None


_usage_only = msgspec.json.Decoder(UsageOnly)


def decode_request(body: bytes) -> EmbedRequest:
    wire = jsonio.client_body(body, Request, "embeddings request")
    if wire.encoding_format not in (None, "float", "base64"):
        raise BadRequest("encoding_format must be 'float' or 'base64'")
    if wire.dimensions is not None and wire.dimensions < 1:
        raise BadRequest("dimensions must be a positive integer")
    inputs, single = _inputs(wire.input)
    return EmbedRequest(
        inputs,
        single,
        dimensions=wire.dimensions,
        base64=wire.encoding_format == "base64",
        user=wire.user,
    )


def _inputs(value: str | list[Any]) -> tuple[list[EmbedInput], bool]:
    """The inputs and whether the client sent one (a string or one token array)."""
    if isinstance(value, str):
        return [EmbedInput(text=value)], True
    if value and all(isinstance(v, str) for v in value):
        return [EmbedInput(text=v) for v in value], False
    if value and all(_is_int(v) for v in value):
        return [EmbedInput(tokens=list(value))], True
    if value and all(isinstance(v, list) and v and all(map(_is_int, v)) for v in value):
        return [EmbedInput(tokens=list(v)) for v in value], False
    raise BadRequest(f"input must be {_INPUT_SHAPES}, and not empty")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def encode_request(req: EmbedRequest, model: str) -> bytes:
    """Floats are asked for: the gateway builds whatever the client wants from them."""
    items: list[Any] = [i.text if i.tokens is None else i.tokens for i in req.inputs]
    out: dict[str, Any] = {
        "model": model,
        "input": items[0] if req.single else items,
        "encoding_format": "float",
    }
    if req.dimensions is not None:
        out["dimensions"] = req.dimensions
    return jsonio.encode(out)


def decode_response(body: bytes) -> EmbedResponse:
    wire = jsonio.upstream_body(body, Response, "embeddings response")
    items = sorted(wire.data, key=lambda item: item.index)
    vectors = [
        from_base64(i.embedding) if isinstance(i.embedding, str) else i.embedding for i in items
    ]
    return EmbedResponse(vectors, wire.model, _usage(wire.usage))


def encode_response(resp: EmbedResponse, model: str, *, base64: bool) -> bytes:
    data = [
        {"object": "embedding", "index": index, "embedding": to_base64(v) if base64 else v}
        for index, v in enumerate(resp.vectors)
    ]
    tokens = resp.usage.input_tokens if resp.usage is not None else 0
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return jsonio.encode({"object": "list", "data": data, "model": model, "usage": usage})


def usage_from_response(body: bytes) -> c.Usage | None:
    """The usage of a response relayed as it came (its vectors are not looked at)."""
    try:
        return _usage(_usage_only.decode(body).usage)
    except msgspec.ValidationError:
        return None  # JSON, but not the usual shape: the usage is estimated
    except msgspec.DecodeError:
        raise UpstreamProtocol("upstream answered 200 with a non-JSON body") from None


def _usage(wire: UsageWire | None) -> c.Usage | None:
    if wire is None or not (wire.prompt_tokens or wire.total_tokens):
        return None
    return c.Usage(input_tokens=wire.prompt_tokens or wire.total_tokens)
