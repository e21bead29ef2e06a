"""/api/v1/log: the persisted request log (list, detail, bodies, clear) and the live SSE view."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from functools import partial
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from octopus.protocols.sse import SseEvent, encode_event
from octopus.services.container import Services
from octopus.services.live_log import LiveLog, Queue
from octopus.store import logs
from octopus.web.admin.access import MAX_ID, MAX_SAFE, bounded_int, int_param
from octopus.web.admin.envelope import AdminError, fail, not_found, ok

PING_SECONDS = 15.0
MAX_PAGE_SIZE = 500
MAX_PAGE = 10**9
_PING = b": ping\n\n"
SCOPE = "X-Octopus-Scope"  # fleet | partial | local: which processes the answer covers


def _filter(params: Mapping[str, str]) -> logs.LogFilter:
    status = params.get("status") or None
    if status is not None and status not in logs.STATUSES:
        raise AdminError(400, "Invalid request parameters: unknown 'status'")
    return logs.LogFilter(
        start_time=int_param(params, "start_time", low=0),
        end_time=int_param(params, "end_time", low=0),
        model=params.get("model") or None,
        channel_id=int_param(params, "channel_id", low=0, high=MAX_ID),
        api_key_id=int_param(params, "api_key_id", low=0, high=MAX_ID),
        status=status,
    )


async def list_logs(services: Services, request: Request) -> Response:
    """The Go shape: a plain list of the page's rows (totals come from /api/v1/log/page)."""
    page = await _page(services, request, with_total=False)
    return ok(page["items"])


async def page_logs(services: Services, request: Request) -> Response:
    """Our own route: `{items, total, page, page_size}` for the panel's pager."""
    return ok(await _page(services, request))


async def _page(services: Services, request: Request, *, with_total: bool = True) -> dict[str, Any]:
    params = request.query_params
    page = max(1, int_param(params, "page", 1, high=MAX_PAGE) or 1)
    page_size = min(MAX_PAGE_SIZE, max(1, int_param(params, "page_size", 20) or 20))
    where = _filter(params)
    async with services.sessions() as session:
        return await logs.list_logs(session, where, page, page_size, with_total=with_total)


def _log_ident(request: Request) -> str:
    """A database id or a request id; anything no log can have is simply not found."""
    ident: str = request.path_params["id"]
    plausible = len(ident) <= 128 and (
        not ident.isdigit() or (ident.isascii() and int(ident) <= MAX_SAFE)
    )
    if not plausible:
        raise not_found()
    return ident


async def get_log(services: Services, request: Request) -> Response:
    ident = _log_ident(request)
    async with services.sessions() as session:
        item = await logs.get_log(session, ident)
    if item is None:
        raise not_found()
    return ok(item)


async def _body(services: Services, request: Request, which: str) -> Response:
    ident = _log_ident(request)
    async with services.sessions() as session:
        text = await logs.get_body(session, ident, which)
    if text is None:
        raise not_found()
    return ok(text)


async def request_body(services: Services, request: Request) -> Response:
    return await _body(services, request, "request")


async def response_body(services: Services, request: Request) -> Response:
    return await _body(services, request, "response")


async def clear(services: Services, request: Request) -> Response:
    async with services.sessions() as session:
        await logs.clear_logs(session)
    await services.fleet.clear()  # the live view of every process forgets its recent requests
    return Response(status_code=204)


async def overview_stream(services: Services, request: Request) -> Response:
    """SSE: event `log` per running/recent request of every process, then live updates; ends
    at shutdown. `X-Octopus-Scope` says whether other processes could be reached, and so does a
    first `scope` event (`{"scope": ..., "shared": Redis configured}`) for the panel, which an
    EventSource cannot read headers for."""
    live, stopping = services.live_log, services.stopping
    queue = live.subscribe()  # before the snapshot, so nothing falls between the two
    try:
        snapshot = await services.fleet.snapshot()
    except BaseException:
        live.unsubscribe(queue)
        raise
    return StreamingResponse(
        _events(
            live,
            queue,
            _scope_event(snapshot.scope, services.link is not None),
            stopping,
            snapshot.value,
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", SCOPE: snapshot.scope},
    )


def _scope_event(scope: str, shared: bool) -> bytes:
    return encode_event(SseEvent(orjson.dumps({"scope": scope, "shared": shared}), event="scope"))


async def _events(
    live: LiveLog, queue: Queue, first: bytes, stopping: asyncio.Event, snapshot: list[bytes]
) -> AsyncIterator[bytes]:
    shown = _Finished()
    try:
        yield first
        for data in snapshot:
            shown.note(data)
            yield encode_event(SseEvent(data, event="log"))
        while not stopping.is_set():
            item = await _next(queue, stopping)
            if item is None:
                return
            if item is _PING:
                yield _PING
            elif shown.note(item):
                yield encode_event(SseEvent(item, event="log"))
    finally:
        live.unsubscribe(queue)


class _Finished:
    """The last finished request ids a stream showed: another process's `running` record that
    crossed the snapshot in flight must not turn a finished request back into a running one."""

    KEEP = 1000

    def __init__(self) -> None:
        self._ids: dict[str, None] = {}

    def note(self, data: bytes) -> bool:
        """False for a stale `running` record (drop it); remembers finished ones."""
        record = orjson.loads(data)
        request_id = record.get("request_id")
        if record.get("status") == "running":
            return request_id not in self._ids
        self._ids[request_id] = None
        if len(self._ids) > self.KEEP:
            del self._ids[next(iter(self._ids))]
        return True


async def _next(queue: Queue, stopping: asyncio.Event) -> bytes | None:
    """The next event, a ping after 15 s of silence, or None when dropped or stopping."""
    if not queue.empty():
        return queue.get_nowait()
    getter = asyncio.ensure_future(queue.get())
    stopper = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait(
            {getter, stopper}, timeout=PING_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for task in (getter, stopper):
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    if getter.done() and not getter.cancelled():
        return getter.result()  # an item that arrived while stopping still goes out
    return None if stopper.done() and not stopper.cancelled() else _PING


async def running_rounds(services: Services, request: Request) -> Response:
    """Request id -> the round that is waiting for its upstream (in any process): what can be
    stopped now."""
    running = await services.fleet.running()
    answer = ok(running.value)
    answer.headers[SCOPE] = running.scope
    return answer


async def stop_round(services: Services, request: Request) -> Response:
    """Stop a running request's current upstream attempt, in whichever process holds it; it
    moves on to the next member."""
    request_id = request.path_params["request_id"]
    number = bounded_int(request.path_params["round"], "round", 0, MAX_ID)
    stopped = await services.fleet.stop(request_id, number)
    if not stopped.value:
        gone = "That round is not waiting for its upstream any more"
        return fail(404, gone, headers={SCOPE: stopped.scope})
    return Response(status_code=204, headers={SCOPE: stopped.scope})


def routes(services: Services) -> list[BaseRoute]:
    return [
        Route("/api/v1/log/running", partial(running_rounds, services), methods=["GET"]),
        Route(
            "/api/v1/log/{request_id}/{round}/stop", partial(stop_round, services), methods=["POST"]
        ),
        Route("/api/v1/log/list", partial(list_logs, services), methods=["GET"]),
        Route("/api/v1/log/page", partial(page_logs, services), methods=["GET"]),
        Route("/api/v1/log/overview/stream", partial(overview_stream, services), methods=["GET"]),
        Route("/api/v1/log/clear", partial(clear, services), methods=["DELETE"]),
        Route("/api/v1/log/{id}/request-body", partial(request_body, services), methods=["GET"]),
        Route("/api/v1/log/{id}/response-body", partial(response_body, services), methods=["GET"]),
        Route("/api/v1/log/{id}", partial(get_log, services), methods=["GET"]),
    ]
