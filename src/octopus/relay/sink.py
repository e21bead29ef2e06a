"""Where the relay reports each client request (RecordSink), and a sink that drops them.

The relay calls `sink.started(record)` once when routing begins (status "running") and
`sink.finished(record)` once at the end with the final status. The same object is passed both
times; the relay mutates it in between and never after `finished`. Both calls are synchronous,
must not block and must not raise (the relay swallows and counts what they raise anyway). The
store's batch writer, the live log and the metrics implement the sink.
"""

from __future__ import annotations

from typing import Protocol

from octopus.records.request import RequestRecord


class RecordSink(Protocol):
    def started(self, record: RequestRecord) -> None: ...
    def finished(self, record: RequestRecord) -> None: ...


class NullSink:
    def started(self, record: RequestRecord) -> None:
        pass

    def finished(self, record: RequestRecord) -> None:
        pass
