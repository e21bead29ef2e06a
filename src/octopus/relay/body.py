"""Request bodies at the top level only: read model/stream, patch model, apply param_override.

The body is decoded as `dict[str, msgspec.Raw]`: nested values (the prompt) stay raw bytes, so
the cost grows with the number of top-level keys, not with the prompt size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import msgspec

from octopus.errors import BadRequest

TopLevel = dict[str, msgspec.Raw]

_top_decoder = msgspec.json.Decoder(TopLevel)
_str_decoder = msgspec.json.Decoder(str)
_flag_decoder = msgspec.json.Decoder(bool | None)
_encoder = msgspec.json.Encoder()
_TRUE = msgspec.Raw(b"true")
IGNORED_OVERRIDES = frozenset({"model", "stream"})
TOO_DEEP = "request body is nested too deeply"
NOT_UTF8 = "request body is not valid UTF-8"


@dataclass(slots=True)
class Head:
    model: str
    stream: bool
    top: TopLevel


def read_head(body: bytes, *, need_model: bool = True) -> Head:
    """Parse the top level; BadRequest for malformed JSON, a non-object or a bad model/stream."""
    try:
        top = _top_decoder.decode(body)
    except msgspec.ValidationError:
        raise BadRequest("request body must be a JSON object") from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"malformed JSON in request body: {exc}") from None
    except RecursionError:
        raise BadRequest(TOO_DEEP) from None
    except UnicodeDecodeError:
        raise BadRequest(NOT_UTF8) from None
    model = ""
    try:
        if "model" in top:
            model = _str_decoder.decode(top["model"])
        stream = bool(_flag_decoder.decode(top["stream"])) if "stream" in top else False
    except msgspec.ValidationError as exc:
        raise BadRequest(f"invalid request: {exc}") from None
    except UnicodeDecodeError:
        raise BadRequest(NOT_UTF8) from None
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
    return patch_top(_top_decoder.decode(body), model=None, overrides=overrides)


def _with_include_usage(raw: msgspec.Raw | None) -> msgspec.Raw:
    if raw is None:
        return msgspec.Raw(b'{"include_usage":true}')
    try:
        options = _top_decoder.decode(raw)
    except msgspec.MsgspecError:
        return msgspec.Raw(b'{"include_usage":true}')
    options["include_usage"] = _TRUE
    return msgspec.Raw(_encoder.encode(options))
