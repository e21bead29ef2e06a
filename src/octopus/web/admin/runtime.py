"""Group runtime state for the admin panel: the live SSE of member health and its reset.

    GET  /api/v1/group/runtime/stream     SSE, event `runtime`: one snapshot per group first, then
                                          a snapshot of each group whose state changed; `: ping`
                                          every 15 s of silence; ends at shutdown
    POST /api/v1/group/runtime/reset/{id} clear cooldowns, failure counts, probe and stickiness

Needs the RelayService and the shutdown event (`stopping`) only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from octopus.protocols.sse import SseEvent, encode_event
from octopus.records.group_mode import GroupMode
from octopus.relay.service import RelayService
from octopus.web.admin.access import path_id
from octopus.web.admin.envelope import ok

PING_SECONDS = 15.0
_PING = b": ping\n\n"


def group_snapshot(relay: RelayService, group_id: int) -> dict[str, Any]:
    """The health snapshot of one group, with the manual mode's chosen member as current."""
    snap = relay.routing.health.snapshot(group_id)
    group = next((g for g in relay.catalog().groups.values() if g.id == group_id), None)
    if group is not None:
        snap["mode"] = group.mode.value
        if group.mode is GroupMode.MANUAL:
            snap["current_item_id"] = group.active_item_id
    return snap


def _event(relay: RelayService, group_id: int) -> bytes:
    return encode_event(SseEvent(orjson.dumps(group_snapshot(relay, group_id)), event="runtime"))


class _Changes:
    """Group ids changed since the last drain; many changes to one group coalesce into one."""

    def __init__(self) -> None:
        self.dirty: set[int] = set()
        self.signal = asyncio.Event()

    def __call__(self, group_id: int) -> None:
        self.dirty.add(group_id)
        self.signal.set()

    def drain(self) -> list[int]:
        ids, self.dirty = sorted(self.dirty), set()
        self.signal.clear()
        return ids


async def runtime_stream(
    relay: RelayService, stopping: asyncio.Event, request: Request
) -> Response:
    changes = _Changes()
    unsubscribe = relay.routing.health.add_listener(changes)  # before the snapshot: no gap
    return StreamingResponse(
        _events(relay, changes, stopping, unsubscribe),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    relay: RelayService, changes: _Changes, stopping: asyncio.Event, unsubscribe: Any
) -> AsyncIterator[bytes]:
    try:
        ids = {g.id for g in relay.catalog().groups.values()} | set(
            relay.routing.health.group_ids()
        )
        for group_id in sorted(ids):
            yield _event(relay, group_id)
        while not stopping.is_set():
            if not await _wait(changes.signal, stopping):
                yield _PING
                continue
            for group_id in changes.drain():
                yield _event(relay, group_id)
    finally:
        unsubscribe()


async def _wait(signal: asyncio.Event, stopping: asyncio.Event) -> bool:
    """True when a change arrived; False after PING_SECONDS of silence or at shutdown."""
    waiters = {asyncio.ensure_future(signal.wait()), asyncio.ensure_future(stopping.wait())}
    _done, pending = await asyncio.wait(
        waiters, timeout=PING_SECONDS, return_when=asyncio.FIRST_COMPLETED
    )
    for task in pending:
        task.cancel()
    return signal.is_set() and not stopping.is_set()


async def reset_group(relay: RelayService, request: Request) -> Response:
    group_id = path_id(request)
    relay.routing.reset_group(group_id)
    return ok(group_snapshot(relay, group_id))


def routes(relay: RelayService, stopping: asyncio.Event) -> list[BaseRoute]:
    stream = partial(runtime_stream, relay, stopping)
    return [
        Route("/api/v1/group/runtime/stream", stream, methods=["GET"]),
        Route("/api/v1/group/runtime/reset/{id}", partial(reset_group, relay), methods=["POST"]),
    ]
