"""Prices (USD per million tokens) and the cost arithmetic of one request.

Cost, with the canonical usage convention (input includes cache reads and writes):
    non_cached  = max(0, input - cache_read - cache_write)
    input_cost  = (non_cached * input + cache_read * cache_read_price
                   + cache_write * cache_write_price) / 1e6
    output_cost = output * output_price / 1e6
The price is looked up by the upstream model name (the group member's model, not the group).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from octopus.records.request import CostRecord, UsageRecord

PER_TOKENS = 1_000_000


@dataclass(frozen=True, slots=True)
class Price:
    input: float = 0.0
    output: float = 0.0
    cache_read: float = 0.0
    cache_write: float = 0.0


class PriceBook(Protocol):
    def price_for(self, model: str) -> Price | None:
        """The price of an upstream model name, or None when unknown (cost is then 0)."""
        ...


class StaticPriceBook:
    """A fixed table, looked up case-insensitively (tests and the offline default)."""

    def __init__(self, prices: Mapping[str, Price] | None = None) -> None:
        self._prices = {k.lower(): v for k, v in (prices or {}).items()}

    def price_for(self, model: str) -> Price | None:
        return self._prices.get(model.lower())


def cost_of(usage: UsageRecord, price: Price | None) -> CostRecord:
    if price is None:
        return CostRecord()
    non_cached = max(0, usage.input - usage.cache_read - usage.cache_write)
    input_cost = (
        non_cached * price.input
        + usage.cache_read * price.cache_read
        + usage.cache_write * price.cache_write
    ) / PER_TOKENS
    return CostRecord(input_cost, usage.output * price.output / PER_TOKENS)
