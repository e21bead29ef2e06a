"""Wire formats and their codecs: pure translation between provider JSON and one canonical model.

The relay's whole interface::

    from octopus.protocols import WireFormat, get_codec, Codec, Loss
    from octopus.protocols import canonical as c
    from octopus.protocols import events as ev
"""

from __future__ import annotations

from octopus.protocols import canonical, events
from octopus.protocols.anthropic_messages import CODEC as ANTHROPIC_CODEC
from octopus.protocols.canonical import Loss
from octopus.protocols.codec import Codec, StreamDecoder, StreamEncoder, UsageTap
from octopus.protocols.formats import WireFormat
from octopus.protocols.gemini import CODEC as GEMINI_CODEC
from octopus.protocols.openai_chat import CODEC as OPENAI_CHAT_CODEC
from octopus.protocols.openai_responses import CODEC as OPENAI_RESPONSES_CODEC

CODECS: dict[WireFormat, Codec] = {
    WireFormat.OPENAI_CHAT: OPENAI_CHAT_CODEC,
    WireFormat.OPENAI_RESPONSES: OPENAI_RESPONSES_CODEC,
    WireFormat.ANTHROPIC: ANTHROPIC_CODEC,
    WireFormat.GEMINI: GEMINI_CODEC,
}


def get_codec(fmt: WireFormat) -> Codec:
    """The codec for a wire format (every WireFormat has one)."""
    return CODECS[fmt]


__all__ = [
    "CODECS",
    "Codec",
    "Loss",
    "StreamDecoder",
    "StreamEncoder",
    "UsageTap",
    "WireFormat",
    "canonical",
    "events",
    "get_codec",
]
