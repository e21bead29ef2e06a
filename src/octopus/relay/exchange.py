"""One attempt against one member: build the upstream call, send it, read up to the commit point.

Returns a Ready (something to deliver) or raises UpstreamFailure (fail over or, for a client
fault, relay the upstream's answer intact). Client-side errors found while converting the
request (BadRequest, NotSupported) propagate as they are: no member can fix them.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec

from octopus.core.clock import Clock
from octopus.errors import GatewayError, UpstreamProtocol, UpstreamTimeout
from octopus.protocols import Codec
from octopus.protocols import events as ev
from octopus.protocols.sse import encode_events
from octopus.relay import retry
from octopus.relay.job import Job
from octopus.relay.outbound import Target, build_request, client_headers_from, json_headers
from octopus.relay.paths import Path, Paths, decoded
from octopus.relay.ready import BodyReady, Ready, UpstreamFailure, codec_for
from octopus.relay.streaming import prefetch
from octopus.routing.catalog import Channel
from octopus.upstream.transport import Headers, Transport, UpstreamResponse, scrub, scrub_bytes

ERROR_BODY_LIMIT = 1024 * 1024
_json_object = msgspec.json.Decoder(dict[str, msgspec.Raw])
log = logging.getLogger("octopus.relay")


@dataclass(frozen=True, slots=True)
class ExchangeLimits:
    max_sse_event_size: int = 32 * 1024 * 1024
    max_response_size: int = 64 * 1024 * 1024
    connect_timeout: float = 10.0
    stream_idle_timeout: float = 300.0  # silence allowed once a stream is committed
    keepalive_interval: float = 15.0


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
        timeout = job.config.first_token_timeout if job.head.stream else job.config.response_timeout
        timeout = max(0.001, min(timeout, job.deadline - self.clock.monotonic()))
        try:
            async with asyncio.timeout(timeout):
                resp = await self.transport.send(request)
                return await self._answer(job, target, resp, upstream, path)
        except TimeoutError:
            what = "first token" if job.head.stream else "response"
            raise UpstreamFailure(UpstreamTimeout(f"no {what} within {timeout:g}s")) from None
        except UpstreamFailure:
            raise
        except GatewayError as exc:
            if not retry.fails_over(exc):
                raise  # a client fault found while converting
            raise UpstreamFailure(exc) from None
        except Exception as exc:  # a codec could not handle this answer: try another member
            log.exception("attempt on channel %s failed unexpectedly", target.channel.name)
            error = UpstreamProtocol(f"unreadable upstream answer ({type(exc).__name__})")
            raise UpstreamFailure(error) from exc

    async def _answer(
        self, job: Job, target: Target, resp: UpstreamResponse, upstream: Codec, path: Path
    ) -> Ready:
        try:
            if resp.status >= 400:
                raise await read_failure(resp, upstream, target.channel)
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
        acc.feed_all(pre.take_rest())
        size, limit = sum(len(c) for c in pre.chunks), self.limits.max_response_size
        if not pre.ended:
            async for chunk in pre.it:
                size += len(chunk)
                if size > limit:
                    raise UpstreamFailure(UpstreamProtocol(f"upstream answer over {limit} bytes"))
                for sse in pre.parser.feed(chunk):
                    acc.feed_all(pre.decoder.feed(sse))
            acc.feed_all([e for sse in pre.parser.close() for e in pre.decoder.feed(sse)])
            acc.feed_all(pre.decoder.close())
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
    resp: UpstreamResponse, upstream: Codec, channel: Channel
) -> UpstreamFailure:
    """The upstream's error, with every key of the channel scrubbed from what it said."""
    secrets = [k.secret for k in channel.keys]
    body = scrub_bytes(await resp.read(ERROR_BODY_LIMIT), secrets)
    err = upstream.decode_error(resp.status, body, _retry_after(resp.header("retry-after")))
    err.message = scrub(err.message, secrets)
    return UpstreamFailure(
        err, (resp.status, client_headers_from(resp.headers, all_headers=True), body)
    )


def _retry_after(value: str | None) -> float | None:
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
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
