"""Request bodies at the top level only: read model/stream, patch model, apply param_override.

The body is decoded as `dict[str, msgspec.Raw]`: nested values (the prompt) stay raw bytes, so
the cost grows with the number of top-level keys, not with the prompt size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import msgspec

from octopus.errors import BadRequest
from octopus.protocols import jsonio
from octopus.protocols.jsonio import TopLevel

_str_decoder = msgspec.json.Decoder(str)
_flag_decoder = msgspec.json.Decoder(bool | None)
_encoder = msgspec.json.Encoder()
_TRUE = msgspec.Raw(b"true")
IGNORED_OVERRIDES = frozenset({"model", "stream"})


@dataclass(slots=True)
class Head:
    model: str
    stream: bool
    top: TopLevel


def read_head(body: bytes, *, need_model: bool = True) -> Head:
    """Parse the top level; BadRequest for malformed JSON, a non-object or a bad model/stream."""
    with jsonio.client_errors("request body"):
        top = jsonio.top_level(body)
    with jsonio.client_errors("request"):
        model = _str_decoder.decode(top["model"]) if "model" in top else ""
        stream = bool(_flag_decoder.decode(top["stream"])) if "stream" in top else False
    if need_model and not model.strip():
        raise BadRequest("you must provide a model parameter")
    return Head(model, stream, top)


def patch_top(
    top: TopLevel,
    *,
    model: str | None,
    include_usage: bool = False,
    overrides: Mapping[str, bytes] | None = None,
) -> bytes:
    """Re-encode the top level with a new model, usage reporting and the channel's overrides."""
    patched = dict(top)
    if model is not None:
        patched["model"] = msgspec.Raw(_encoder.encode(model))
    if include_usage:
        patched["stream_options"] = _with_include_usage(patched.get("stream_options"))
    for key, raw in (overrides or {}).items():
        if key not in IGNORED_OVERRIDES:
            patched[key] = msgspec.Raw(raw)
    return _encoder.encode(patched)


def apply_overrides(body: bytes, overrides: Mapping[str, bytes]) -> bytes:
    """param_override on an already encoded upstream body (after conversion)."""
    if not overrides:
        return body
    return patch_top(jsonio.top_level(body), model=None, overrides=overrides)


def _with_include_usage(raw: msgspec.Raw | None) -> msgspec.Raw:
    if raw is None:
        return msgspec.Raw(b'{"include_usage":true}')
    try:
        options = jsonio.top_level(raw)
    except msgspec.MsgspecError:
        return msgspec.Raw(b'{"include_usage":true}')
    options["include_usage"] = _TRUE
    return msgspec.Raw(_encoder.encode(options))
