"""Vectors as OpenAI's `encoding_format: base64` carries them: little-endian float32, base64."""

from __future__ import annotations

import base64
import binascii
import sys
from array import array

from octopus.errors import UpstreamProtocol

_SWAP = sys.byteorder != "little"


def to_base64(values: list[float]) -> str:
    packed = array("f", values)
    if _SWAP:
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def from_base64(text: str) -> list[float]:
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise UpstreamProtocol("an embedding is not valid base64") from None
    if len(raw) % 4:
        raise UpstreamProtocol("a base64 embedding is not a whole number of float32 values")
    packed = array("f")
    packed.frombytes(raw)
    if _SWAP:
        packed.byteswap()
    return packed.tolist()
