"""Shared-state adapters for running several gateway instances on one Redis."""
