"""One attempt against one member: build the upstream call, send it, read up to the commit point.

Returns a Ready (something to deliver) or raises UpstreamFailure (fail over or, for a client
fault, relay the upstream's answer intact). Client-side errors found while converting the
request (BadRequest, NotSupported) propagate as they are: no member can fix them.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from octopus.core.clock import Clock
from octopus.core.deadlines import deadlines_of
from octopus.errors import GatewayError, UpstreamProtocol, UpstreamTimeout
from octopus.protocols import Codec
from octopus.protocols import events as ev
from octopus.protocols.sse import encode_events
from octopus.relay.job import Job
from octopus.relay.outbound import Target, build_request, client_headers_from, json_headers
from octopus.relay.paths import Path, Paths, decoded
from octopus.relay.ready import BodyReady, Ready, UpstreamFailure, codec_for
from octopus.relay.streaming import prefetch
from octopus.routing.catalog import Channel
from octopus.upstream.transport import (
    Headers,
    Transport,
    UpstreamRequest,
    UpstreamResponse,
    scrub,
    scrub_bytes,
)

ERROR_BODY_LIMIT = 1024 * 1024
log = logging.getLogger("octopus.relay")


@dataclass(frozen=True, slots=True)
class ExchangeLimits:
    max_sse_event_size: int = 32 * 1024 * 1024
    max_response_size: int = 64 * 1024 * 1024
    connect_timeout: float = 10.0
    stream_idle_timeout: float = 300.0  # silence allowed once a stream is committed
    keepalive_interval: float = 15.0


def time_for(limit: float, deadline: float, clock: Clock) -> float:
    """An attempt's seconds: its own limit, capped by what is left of the request's deadline."""
    return max(0.001, min(limit, deadline - clock.monotonic()))


async def guarded(
    work: Coroutine[Any, Any, Ready], seconds: float, what: str, target: Target
) -> Ready:
    """Send and read one attempt within its time, every failure mapped for the Attempts loop:
    a timeout or an upstream fault fails over, a client fault propagates as it is, and anything
    else (a codec that could not handle the answer) fails over as an unreadable answer."""
    task = asyncio.current_task()
    if task is None:  # not in a task: nothing to cancel at the deadline
        return await work
    limit = _Limit(task)
    deadline = deadlines_of(task.get_loop()).call_later(seconds, limit.expire)
    try:
        return await work
    except asyncio.CancelledError:
        if limit.expired and task.uncancel() <= limit.cancelling:  # our deadline, no other
            raise UpstreamFailure(UpstreamTimeout(f"no {what} within {seconds:g}s")) from None
        raise
    except UpstreamFailure:
        raise
    except GatewayError as exc:
        if not exc.retryable:
            raise  # the request itself, or this member's dialect, cannot be served
        raise UpstreamFailure(exc) from None
    except Exception as exc:
        log.exception("attempt on channel %s failed unexpectedly", target.channel.name)
        error = UpstreamProtocol(f"unreadable upstream answer ({type(exc).__name__})")
        raise UpstreamFailure(error) from exc
    finally:
        deadline.cancel()


class _Limit:
    """An attempt's time limit, as asyncio.timeout keeps it: the task is cancelled when it
    expires, and the cancellation is told apart from others by the task's cancel count."""

    __slots__ = ("cancelling", "expired", "task")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.cancelling = task.cancelling()
        self.expired = False

    def expire(self) -> None:
        self.expired = True
        self.task.cancel()


@dataclass(slots=True)
class Exchanger:
    transport: Transport
    clock: Clock
    limits: ExchangeLimits
    paths: Paths = field(init=False)

    def __post_init__(self) -> None:
        self.paths = Paths.build(self.clock, self.limits.keepalive_interval)

    async def prepare(self, job: Job, target: Target) -> Ready:
        path = self.paths.for_attempt(job, target)
        upstream = codec_for(target.channel.type)
        request = build_request(
            target,
            path.request_body(job, target, upstream),
            stream=job.head.stream,
            client_headers=path.client_headers(job),
            timeouts=(self.limits.connect_timeout, self.limits.stream_idle_timeout),
        )
        stream = job.head.stream
        limit = job.config.first_token_timeout if stream else job.config.response_timeout
        return await guarded(
            self._call(job, target, request, upstream, path),
            time_for(limit, job.deadline, self.clock),
            "first token" if stream else "response",
            target,
        )

    async def _call(
        self, job: Job, target: Target, request: UpstreamRequest, upstream: Codec, path: Path
    ) -> Ready:
        resp = await self.transport.send(request)
        return await self._answer(job, target, resp, upstream, path)

    async def _answer(
        self, job: Job, target: Target, resp: UpstreamResponse, upstream: Codec, path: Path
    ) -> Ready:
        try:
            if resp.status >= 400:
                raise await read_failure(resp, upstream, target.channel, self.clock)
            is_sse = (resp.header("content-type") or "").startswith("text/event-stream")
            if job.head.stream and is_sse:
                limit, early = self.limits.max_sse_event_size, job.last_chance
                pre = await prefetch(resp, upstream, limit, commit_early=early)
                return path.stream(job, target, resp, pre, upstream)
            if is_sse:
                return await self._accumulate(job, resp, upstream)
            data = await resp.read(self.limits.max_response_size)
            await resp.aclose()
        except BaseException:
            await resp.aclose()
            raise
        if job.head.stream:
            return self._stream_from_body(job, data, upstream, resp.headers)
        return path.answer(job, resp, data, upstream)

    async def _accumulate(self, job: Job, resp: UpstreamResponse, upstream: Codec) -> Ready:
        """A non-stream client served by a streaming answer: fold the events into one response."""
        pre = await prefetch(resp, upstream, self.limits.max_sse_event_size)
        acc = ev.Accumulator()
        acc.feed_all(pre.events)
        reader = pre.reader()
        acc.feed_all(pre.take_rest(reader))
        size, limit = sum(len(c) for c in pre.chunks), self.limits.max_response_size
        if not pre.ended:
            async for chunk in pre.it:
                size += len(chunk)
                if size > limit:
                    raise UpstreamFailure(UpstreamProtocol(f"upstream answer over {limit} bytes"))
                acc.feed_all(reader.feed(chunk))
            acc.feed_all(reader.close())
        await resp.aclose()
        result = acc.result()
        out = job.codec.encode_response(result, job.losses)
        return BodyReady(200, json_headers(resp.headers), out, result.usage)

    def _stream_from_body(self, job: Job, data: bytes, upstream: Codec, headers: Headers) -> Ready:
        """A stream client served by a JSON answer: replay it as one short stream."""
        canon = decoded(upstream, data)
        encoder = job.codec.stream_encoder(canon.model or job.head.model)
        sse = [s for e in ev.response_events(canon) for s in encoder.feed(e)] + encoder.close()
        out = [
            *client_headers_from(headers, all_headers=False),
            ("content-type", "text/event-stream"),
        ]
        return BodyReady(200, out, encode_events(sse), canon.usage)


async def read_failure(
    resp: UpstreamResponse, upstream: Codec, channel: Channel, clock: Clock
) -> UpstreamFailure:
    """The upstream's error, with every key of the channel scrubbed from what it said."""
    secrets = [k.secret for k in channel.keys]
    body = scrub_bytes(await resp.read(ERROR_BODY_LIMIT), secrets)
    err = upstream.decode_error(resp.status, body, _retry_after(resp.header("retry-after"), clock))
    err.message = scrub(err.message, secrets)
    return UpstreamFailure(
        err, (resp.status, client_headers_from(resp.headers, all_headers=True), body)
    )


def _retry_after(value: str | None, clock: Clock) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - clock.time())
