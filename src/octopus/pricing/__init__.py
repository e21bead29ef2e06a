"""Prices and cost: the per-request arithmetic, and matching model names to a price table."""
