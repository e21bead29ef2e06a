"""The record sink the relay reports to: hands each record to the writer, live view and metrics."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from octopus.records.request import RequestRecord
from octopus.relay.sink import RecordSink

log = logging.getLogger("octopus.services.fan_out")


class FanOutSink:
    """Calls every sink in order; one sink raising never stops the others or the relay."""

    def __init__(self, sinks: Sequence[RecordSink]) -> None:
        self._sinks = tuple(sinks)
        self.errors = 0

    def started(self, record: RequestRecord) -> None:
        for sink in self._sinks:
            try:
                sink.started(record)
            except Exception:
                self._failed(sink)

    def finished(self, record: RequestRecord) -> None:
        for sink in self._sinks:
            try:
                sink.finished(record)
            except Exception:
                self._failed(sink)

    def _failed(self, sink: RecordSink) -> None:
        self.errors += 1
        if self.errors == 1 or self.errors % 1000 == 0:
            log.exception("a record sink failed", extra={"fields": {"sink": type(sink).__name__}})
