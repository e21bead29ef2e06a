"""The live request view: running and recent requests pushed to SSE subscribers."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

import orjson

from octopus.records.request import RequestRecord
from octopus.store.records import log_item, log_row

Queue = asyncio.Queue[bytes | None]  # None: the subscriber was dropped (too slow) or closed
Forward = Callable[[bytes], None]


def record_json(record: RequestRecord) -> bytes:
    """A record as the log list shows it (no bodies), `id` null until it is stored."""
    item: dict[str, Any] = log_item(log_row(record))
    item["id"] = None
    item["started_at"] = record.started_at
    return orjson.dumps(item)


class LiveLog:
    """Keeps running requests and the last `keep` finished ones; a slow subscriber is dropped."""

    def __init__(self, keep: int = 100, queue_size: int = 256) -> None:
        self._running: dict[int, RequestRecord] = {}
        self._recent: deque[RequestRecord] = deque(maxlen=keep)
        self._queue_size = queue_size
        self._subscribers: set[Queue] = set()
        self.dropped_subscribers = 0
        self.forward: Forward | None = None  # set only while another process watches

    def started(self, record: RequestRecord) -> None:
        self._running[id(record)] = record
        self._publish(record)

    def finished(self, record: RequestRecord) -> None:
        self._running.pop(id(record), None)
        self._recent.append(record)
        self._publish(record)

    def snapshot(self) -> list[bytes]:
        """Running and recent requests, newest first."""
        records = [*self._running.values(), *self._recent]
        records.sort(key=lambda r: r.started_at, reverse=True)
        return [record_json(r) for r in records]

    def subscribe(self) -> Queue:
        queue: Queue = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: Queue) -> None:
        self._subscribers.discard(queue)

    def clear(self) -> None:
        self._recent.clear()

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def _publish(self, record: RequestRecord) -> None:
        if not self._subscribers and self.forward is None:
            return  # nobody watches anywhere: the hot path pays one check
        data = record_json(record)
        self.deliver(data)
        if self.forward is not None:
            self.forward(data)

    def deliver(self, data: bytes) -> None:
        """A record (`record_json`, made here or in another process) to every subscriber."""
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(data)
            except asyncio.QueueFull:
                self._drop(queue)

    def _drop(self, queue: Queue) -> None:
        self._subscribers.discard(queue)
        self.dropped_subscribers += 1
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)
