"""Usage and cost of one request: the upstream's numbers when it reports them, else an estimate."""

from __future__ import annotations

from octopus.protocols import canonical as c
from octopus.relay.pricing import PriceBook, cost_of
from octopus.relay.sink import RequestRecord, UsageRecord

BYTES_PER_TOKEN = 4  # rough: JSON-wrapped text averages about four bytes per token


def estimate_tokens(size: int) -> int:
    return max(1, size // BYTES_PER_TOKEN) if size else 0


def settle(
    record: RequestRecord,
    usage: c.Usage | None,
    prices: PriceBook,
    *,
    request_size: int,
    response_size: int,
) -> None:
    """Fill `record.usage` and `record.cost` (price of the upstream model)."""
    if usage is not None and (usage.input_tokens or usage.output_tokens):
        record.usage = UsageRecord.from_canonical(usage)
    else:
        record.usage = UsageRecord(
            input=estimate_tokens(request_size),
            output=estimate_tokens(response_size),
            estimated=True,
        )
    record.cost = cost_of(record.usage, prices.price_for(record.upstream_model))
