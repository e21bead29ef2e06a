"""The worst-case cost a request may reach, held against its key's budget until it settles.

Worst case = the request's input (estimated from its size) plus its output cap (`max_tokens`,
`max_completion_tokens`, `max_output_tokens` or Gemini's `generationConfig.maxOutputTokens`;
DEFAULT_OUTPUT_CAP when it sets none), at the dearest price among the group's members.
"""

from __future__ import annotations

import msgspec

from octopus.errors import BadRequest
from octopus.pricing.cost import PriceBook, cost_of
from octopus.protocols import jsonio
from octopus.records.request import UsageRecord
from octopus.relay.body import Head
from octopus.relay.metering import estimate_tokens
from octopus.routing.catalog import Group

DEFAULT_OUTPUT_CAP = 4096  # tokens reserved when the request sets no output limit
_CAP_FIELDS = ("max_tokens", "max_completion_tokens", "max_output_tokens")
_int = msgspec.json.Decoder(int)


def output_cap(head: Head) -> int:
    """The most output tokens the request allows (DEFAULT_OUTPUT_CAP when it does not say)."""
    for name in _CAP_FIELDS:
        if name in head.top:
            return _positive(head.top[name])
    config = head.top.get("generationConfig") or head.top.get("generation_config")
    if config is not None:
        try:
            fields = jsonio.client_body(config, jsonio.TopLevel, "generationConfig")
        except BadRequest:
            return DEFAULT_OUTPUT_CAP
        raw = fields.get("maxOutputTokens") or fields.get("max_output_tokens")
        if raw is not None:
            return _positive(raw)
    return DEFAULT_OUTPUT_CAP


def worst_case(
    head: Head, group: Group, prices: PriceBook, request_size: int, *, generates: bool = True
) -> float:
    """USD: the input estimate and the output cap at the dearest member's price (embeddings
    generate no output tokens)."""
    output = output_cap(head) if generates else 0
    usage = UsageRecord(input=estimate_tokens(request_size), output=output)
    costs = [cost_of(usage, prices.price_for(m.model_name)).total for m in group.members]
    return max(costs, default=0.0)


def _positive(raw: msgspec.Raw) -> int:
    try:
        value = _int.decode(raw)
    except msgspec.MsgspecError:
        return DEFAULT_OUTPUT_CAP
    return value if value > 0 else DEFAULT_OUTPUT_CAP
