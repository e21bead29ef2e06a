"""In-memory stand-ins for the relay's ports: a clock moved by hand, and a record sink and
channel events that remember what they were told."""

from __future__ import annotations

from octopus.records.request import RequestRecord


class FakeClock:
    """A clock moved by hand."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._wall = start
        self._mono = 1000.0

    def monotonic(self) -> float:
        return self._mono

    def time(self) -> float:
        return self._wall

    def advance(self, seconds: float) -> None:
        self._mono += seconds
        self._wall += seconds


class ListSink:
    """Keeps every finished record in memory ."""

    def __init__(self) -> None:
        self.running: list[RequestRecord] = []
        self.records: list[RequestRecord] = []

    def started(self, record: RequestRecord) -> None:
        self.running.append(record)

    def finished(self, record: RequestRecord) -> None:
        if record in self.running:
            self.running.remove(record)
        self.records.append(record)


class ListChannelEvents:
    """Remembers every event."""

    def __init__(self) -> None:
        self.disabled: list[tuple[int, int, str]] = []
        self.resting: list[tuple[int, int, float]] = []

    def key_disabled(self, channel_id: int, key_id: int, reason: str) -> None:
        self.disabled.append((channel_id, key_id, reason))

    def key_resting(self, channel_id: int, key_id: int, seconds: float) -> None:
        self.resting.append((channel_id, key_id, seconds))
