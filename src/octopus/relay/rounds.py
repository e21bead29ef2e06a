"""Rounds in flight: the admin can stop the current upstream attempt of a running request.

A stopped round is not a failure: the member is not cooled down and the request moves on to
the next member at once (the reference's "stop current round"). Only the pre-commit phase can
be stopped: the attempt runs in a task of its own until its answer is ready, and only that task
is cancelled, so a stop can never reach the request once bytes flow to the client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


class RoundStopped(Exception):
    """The admin stopped this round."""


@dataclass(slots=True)
class _Round:
    number: int
    task: asyncio.Task[Any]
    stopping: bool = False


class Rounds:
    def __init__(self) -> None:
        self._current: dict[str, _Round] = {}

    async def run(self, request_id: str, number: int, work: Coroutine[Any, Any, T]) -> T:
        """Await `work` as round `number` of the request; RoundStopped when the admin stops it."""
        task = asyncio.ensure_future(work)
        entry = self._current[request_id] = _Round(number, task)
        try:
            return await task
        except asyncio.CancelledError:
            outer = asyncio.current_task()
            if entry.stopping and (outer is None or not outer.cancelling()):
                raise RoundStopped from None
            raise
        finally:
            if self._current.get(request_id) is entry:
                del self._current[request_id]

    def stop(self, request_id: str, number: int) -> bool:
        """Cancel that round if it is still the current, uncommitted one."""
        entry = self._current.get(request_id)
        if entry is None or entry.number != number or entry.stopping or entry.task.done():
            return False
        entry.stopping = True
        entry.task.cancel()
        return True

    def running(self) -> dict[str, int]:
        return {request_id: entry.number for request_id, entry in self._current.items()}
