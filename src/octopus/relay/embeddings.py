"""One embeddings attempt against one member: the Attempts loop's exchanger for embeddings.

Same dialect: the body goes as it came (re-encoded only when the member's model name differs)
and the answer comes back byte for byte. Otherwise request and answer are converted between
OpenAI and Gemini. A channel type without an embeddings API raises CannotServe: the member is
skipped, and the client gets 400 when no member can serve.
"""

from __future__ import annotations

from dataclasses import dataclass

from octopus.core.clock import Clock
from octopus.errors import CannotServe
from octopus.protocols import WireFormat
from octopus.protocols import canonical as c
from octopus.protocols import embeddings as emb
from octopus.relay.body import patch_top
from octopus.relay.context import Operation
from octopus.relay.exchange import ExchangeLimits, guarded, read_failure, time_for
from octopus.relay.job import Job
from octopus.relay.metering import estimate_tokens
from octopus.relay.outbound import Target, build_request, client_headers_from, json_headers
from octopus.relay.ready import BodyReady, Delivery, Ready, codec_for
from octopus.upstream.providers import embeddings_url
from octopus.upstream.transport import Transport, UpstreamRequest, UpstreamResponse


@dataclass(frozen=True, slots=True)
class _Call:
    url: str
    body: bytes
    request: emb.EmbedRequest | None = None  # the decoded client request; None = same dialect


@dataclass(slots=True)
class EmbedExchanger:
    transport: Transport
    clock: Clock
    limits: ExchangeLimits

    async def prepare(self, job: Job, target: Target) -> Ready:
        call = _plan(job, target)
        request = build_request(
            target,
            call.body,
            stream=False,
            client_headers=job.client.headers if call.request is None else None,
            timeouts=(self.limits.connect_timeout, self.limits.stream_idle_timeout),
            url=call.url,
        )
        timeout = time_for(job.config.response_timeout, job.deadline, self.clock)
        return await guarded(self._call(job, target, request, call), timeout, "response", target)

    async def _call(self, job: Job, target: Target, request: UpstreamRequest, call: _Call) -> Ready:
        resp = await self.transport.send(request)
        return await self._answer(job, target, resp, call)

    async def _answer(self, job: Job, target: Target, resp: UpstreamResponse, call: _Call) -> Ready:
        try:
            if resp.status >= 400:
                channel = target.channel
                raise await read_failure(resp, codec_for(channel.type), channel, self.clock)
            data = await resp.read(self.limits.max_response_size)
        finally:
            await resp.aclose()
        upstream = _dialect(target)
        if call.request is None:  # same dialect: relayed as it came
            headers = client_headers_from(resp.headers, all_headers=True)
            return EmbedReady(resp.status, headers, data, _usage_of(upstream, data))
        answer = _decode_response(upstream, data)
        reported = answer.usage
        # the client is told the estimate the log will bill when the upstream said nothing
        answer.usage = reported or c.Usage(input_tokens=estimate_tokens(len(job.client.body)))
        body = _encode_response(job, call.request, answer, target.member.model_name)
        return EmbedReady(200, json_headers(resp.headers), body, reported)


class EmbedReady(BodyReady):
    """Embeddings have no output text: without reported usage only the input is estimated."""

    __slots__ = ()

    def progress(self) -> Delivery:
        delivery = BodyReady.progress(self)
        delivery.output_size = 0
        return delivery


def _dialect(target: Target) -> WireFormat:
    found = emb.dialect(target.channel.type)
    if found is None:
        kind = target.channel.type.value
        raise _cannot(target, f"({kind}) has no embeddings API; use an OpenAI-type or Gemini one")
    return found


def _cannot(target: Target, why: str) -> CannotServe:
    # clients may see this text: the channel by number, never by name (docs/security.md)
    return CannotServe(f"channel #{target.channel.id} {why}")


def _plan(job: Job, target: Target) -> _Call:
    """The upstream URL and body: passed through in the same dialect, converted otherwise."""
    upstream, client = _dialect(target), job.client.format
    model, base = target.member.model_name, target.channel.base_url
    if upstream is client:
        batch = job.client.operation is Operation.BATCH_EMBED
        action = emb.gemini.BATCH if batch else emb.gemini.EMBED
        return _Call(_url(upstream, base, model, action, target), _same_body(job, model))
    request = _decode_request(job)
    job.losses = emb.losses(request, client, upstream)
    if upstream is WireFormat.GEMINI:
        action, body = emb.gemini.encode_request(request, model)
        return _Call(_url(upstream, base, model, action, target), body, request)
    body = emb.openai.encode_request(request, model)
    return _Call(_url(upstream, base, model, "", target), body, request)


def _url(upstream: WireFormat, base: str, model: str, action: str, target: Target) -> str:
    url = embeddings_url(upstream, base, model, action)
    if url is None:
        raise _cannot(target, "has a full endpoint URL (##); embeddings need its base URL")
    return url


def _same_body(job: Job, model: str) -> bytes:
    if model == job.head.model:
        return job.client.body  # byte-identical
    if job.client.format is WireFormat.GEMINI:
        return emb.gemini.with_model(job.client.body, model)
    return patch_top(job.head.top, model=model)


def _decode_request(job: Job) -> emb.EmbedRequest:
    if job.client.format is WireFormat.GEMINI:
        batch = job.client.operation is Operation.BATCH_EMBED
        return emb.gemini.decode_request(job.client.body, batch=batch)
    return emb.openai.decode_request(job.client.body)


def _decode_response(upstream: WireFormat, data: bytes) -> emb.EmbedResponse:
    if upstream is WireFormat.GEMINI:
        return emb.gemini.decode_response(data)
    return emb.openai.decode_response(data)


def _encode_response(
    job: Job, request: emb.EmbedRequest, answer: emb.EmbedResponse, model: str
) -> bytes:
    if job.client.format is WireFormat.GEMINI:
        return emb.gemini.encode_response(
            answer, batch=job.client.operation is Operation.BATCH_EMBED
        )
    return emb.openai.encode_response(answer, model, base64=request.base64)


def _usage_of(upstream: WireFormat, data: bytes) -> c.Usage | None:
    if upstream is WireFormat.GEMINI:
        return emb.gemini.usage_from_response(data)
    return emb.openai.usage_from_response(data)
