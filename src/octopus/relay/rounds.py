"""Rounds in flight: the admin can stop the current upstream attempt of a running request.

A stopped round is not a failure: the member is not cooled down and the request moves on to
the next member at once (the reference's "stop current round"). Only the pre-commit phase can
be stopped: a round is registered only while the request's task awaits its attempt, so a stop
cancels the task at a wait inside the attempt and can never reach it once bytes flow to the
client. No task of its own per attempt: the stop is told apart from other cancellations by its
flag and the task's cancel count (as asyncio.timeout does).
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
        task = asyncio.current_task()
        if task is None:  # not in a task: nothing the admin could cancel
            return await work
        entry = self._current[request_id] = _Round(number, task)
        try:
            result = await work
        except asyncio.CancelledError:
            if entry.stopping and task.uncancel() == 0:  # only the admin's stop cancelled it
                raise RoundStopped from None
            raise
        finally:
            if self._current.get(request_id) is entry:
                del self._current[request_id]
        if entry.stopping:  # the attempt swallowed the stop: its cancel must not linger
            task.uncancel()
        return result

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
