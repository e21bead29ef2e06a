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
from octopus.core.sse import encode_events
from octopus.errors import BadRequest, GatewayError, UpstreamProtocol, UpstreamTimeout
from octopus.protocols import Codec, Loss, WireFormat
from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from octopus.relay.body import NOT_UTF8, TOO_DEEP, Head, apply_overrides, patch_top
from octopus.relay.context import ClientRequest, HeaderList
from octopus.relay.outbound import Target, build_request, client_headers_from
from octopus.relay.ready import BodyReady, Ready, UpstreamFailure, codec_for
from octopus.relay.streaming import ConvertedStream, PassthroughStream, prefetch
from octopus.routing.catalog import Channel, RelayConfig
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
class Job:
    """The request-wide inputs every attempt needs."""

    client: ClientRequest
    head: Head
    codec: Codec
    config: RelayConfig
    deadline: float  # monotonic
    losses: list[Loss] = field(default_factory=list)
    canon: c.CanonRequest | None = None  # decoded once, on the first converting attempt
    capture: int = 0  # streamed response bytes to keep for the request log
    last_chance: bool = False  # no member left to fail over to after this attempt


@dataclass(slots=True)
class Exchanger:
    transport: Transport
    clock: Clock
    limits: ExchangeLimits

    async def prepare(self, job: Job, target: Target) -> Ready:
        same = target.channel.type is job.client.format
        upstream = codec_for(target.channel.type)
        body = upstream_body(job, target, upstream, same=same)
        request = build_request(
            target,
            body,
            stream=job.head.stream,
            client_headers=job.client.headers if same else None,
            timeouts=(self.limits.connect_timeout, self.limits.stream_idle_timeout),
        )
        timeout = job.config.first_token_timeout if job.head.stream else job.config.response_timeout
        timeout = max(0.001, min(timeout, job.deadline - self.clock.monotonic()))
        try:
            async with asyncio.timeout(timeout):
                resp = await self.transport.send(request)
                return await self._answer(job, target, resp, upstream, same=same)
        except TimeoutError:
            what = "first token" if job.head.stream else "response"
            raise UpstreamFailure(UpstreamTimeout(f"no {what} within {timeout:g}s")) from None
        except UpstreamFailure:
            raise
        except GatewayError as exc:
            if not exc.retryable:
                raise  # a client fault found while converting
            raise UpstreamFailure(exc) from None
        except Exception as exc:  # a codec could not handle this answer: try another member
            log.exception("attempt on channel %s failed unexpectedly", target.channel.name)
            error = UpstreamProtocol(f"unreadable upstream answer ({type(exc).__name__})")
            raise UpstreamFailure(error) from exc

    async def _answer(
        self, job: Job, target: Target, resp: UpstreamResponse, upstream: Codec, *, same: bool
    ) -> Ready:
        try:
            if resp.status >= 400:
                raise await read_failure(resp, upstream, target.channel)
            is_sse = (resp.header("content-type") or "").startswith("text/event-stream")
            if job.head.stream and is_sse:
                return await self._stream(job, target, resp, upstream, same=same)
            if is_sse:
                return await self._accumulate(job, resp, upstream)
            data = await resp.read(self.limits.max_response_size)
            await resp.aclose()
        except BaseException:
            await resp.aclose()
            raise
        if job.head.stream:
            return self._stream_from_body(job, data, upstream, resp.headers)
        if same:
            usage = upstream.usage_from_response(data)
            if usage is None:
                _require_json(data)  # a proxy's HTML page under 200 is a failure, not an answer
            headers = client_headers_from(resp.headers, all_headers=True)
            return BodyReady(resp.status, headers, data, usage)
        canon = _decoded(upstream, data)
        out = job.codec.encode_response(canon, job.losses)
        return BodyReady(200, json_headers(resp.headers), out, canon.usage)

    async def _stream(
        self, job: Job, target: Target, resp: UpstreamResponse, upstream: Codec, *, same: bool
    ) -> Ready:
        early = job.last_chance
        pre = await prefetch(resp, upstream, self.limits.max_sse_event_size, commit_early=early)
        keepalive = self.limits.keepalive_interval
        if same:
            headers = client_headers_from(resp.headers, all_headers=True)
            return PassthroughStream(
                resp, pre, headers, upstream, self.clock, job.capture, keepalive_interval=keepalive
            )
        headers = client_headers_from(resp.headers, all_headers=False)
        headers += [("content-type", "text/event-stream"), ("cache-control", "no-cache")]
        model = target.member.model_name
        return ConvertedStream(
            resp, pre, headers, job.codec, model, self.clock, keepalive, job.capture
        )

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
        canon = _decoded(upstream, data)
        encoder = job.codec.stream_encoder(canon.model or job.head.model)
        sse = [s for e in ev.response_events(canon) for s in encoder.feed(e)] + encoder.close()
        out = [
            *client_headers_from(headers, all_headers=False),
            ("content-type", "text/event-stream"),
        ]
        return BodyReady(200, out, encode_events(sse), canon.usage)


def upstream_body(job: Job, target: Target, upstream: Codec, *, same: bool) -> bytes:
    """Same protocol: patch the model (and usage reporting) only. Otherwise convert."""
    channel, model = target.channel, target.member.model_name
    if same:
        if job.client.format is WireFormat.GEMINI:  # the model lives in the URL
            return apply_overrides(job.client.body, channel.param_override)
        include_usage = job.client.format is WireFormat.OPENAI_CHAT and job.head.stream
        if model == job.head.model and not include_usage and not channel.param_override:
            return job.client.body
        return patch_top(
            job.head.top, model=model, include_usage=include_usage, overrides=channel.param_override
        )
    if job.canon is None:
        try:
            job.canon = job.codec.decode_request(
                job.client.body, model=job.head.model, stream=job.head.stream
            )
        except RecursionError:
            raise BadRequest(TOO_DEEP) from None
        except UnicodeDecodeError:
            raise BadRequest(NOT_UTF8) from None
    canon = msgspec.structs.replace(job.canon, model=model)
    losses: list[Loss] = []
    body = upstream.encode_request(canon, losses)
    job.losses = losses
    return apply_overrides(body, channel.param_override)


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


def _require_json(data: bytes) -> None:
    try:
        _json_object.decode(data)
    except (msgspec.MsgspecError, RecursionError, UnicodeDecodeError):
        error = UpstreamProtocol("upstream answered 200 with a non-JSON body")
        raise UpstreamFailure(error) from None


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


def _decoded(upstream: Codec, data: bytes) -> c.CanonResponse:
    try:
        canon = upstream.decode_response(data)
    except (RecursionError, UnicodeDecodeError, msgspec.MsgspecError):
        error = UpstreamProtocol("upstream answered with an unreadable body")
        raise UpstreamFailure(error) from None
    if canon.error is not None:
        raise UpstreamFailure(UpstreamProtocol(f"upstream response failed: {canon.error.message}"))
    return canon


def json_headers(upstream: Headers) -> HeaderList:
    return [*client_headers_from(upstream, all_headers=False), ("content-type", "application/json")]
