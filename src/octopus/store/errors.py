"""Refusals the store raises from admin writes; the web layer turns them into envelope errors."""

from __future__ import annotations


class StoreRefusal(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(StoreRefusal):
    """The write contradicts what is stored (an unknown channel, a model the channel lacks)."""


class Duplicate(StoreRefusal):
    """A unique name or member is already taken."""


class NotFound(StoreRefusal):
    status = 404
