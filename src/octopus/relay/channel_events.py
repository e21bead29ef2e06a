"""Channel key health changes the relay reports so that the store can persist them."""

from __future__ import annotations

from typing import Protocol


class ChannelEvents(Protocol):
    """Synchronous and non-blocking (schedule the DB write); must not raise into the relay."""

    def key_disabled(self, channel_id: int, key_id: int, reason: str) -> None:
        """The upstream refused the key (401/403): persist `enabled=false` with the reason."""
        ...

    def key_resting(self, channel_id: int, key_id: int, seconds: float) -> None:
        """The upstream rate-limited the key (429): it is skipped for `seconds`."""
        ...


class NullChannelEvents:
    def key_disabled(self, channel_id: int, key_id: int, reason: str) -> None:
        pass

    def key_resting(self, channel_id: int, key_id: int, seconds: float) -> None:
        pass
