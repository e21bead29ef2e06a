"""The two paths an attempt takes to a member, chosen once per attempt by protocol.

Passthrough: the member speaks the client's protocol. The body goes up as it came (only the
model, usage reporting and overrides patched) with the client's provider headers, and the answer
comes back byte for byte. Conversion: client protocol -> canonical -> the member's protocol,
and the answer the same way back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import msgspec

from octopus.core.clock import Clock
from octopus.errors import UpstreamProtocol
from octopus.protocols import Codec, Loss, WireFormat, jsonio
from octopus.protocols import canonical as c
from octopus.protocols.jsonio import TopLevel
from octopus.relay.body import apply_overrides, patch_top
from octopus.relay.job import Job
from octopus.relay.outbound import Target, client_headers_from, json_headers
from octopus.relay.ready import BodyReady, Ready, UpstreamFailure
from octopus.relay.streaming import ConvertedStream, PassthroughStream, Prefetched
from octopus.upstream.transport import UpstreamResponse


class Path(Protocol):
    def request_body(self, job: Job, target: Target, upstream: Codec) -> bytes: ...

    def client_headers(self, job: Job) -> Mapping[str, str] | None:
        """The client's headers forwarded upstream (provider versions and betas), if any."""
        ...

    def answer(self, job: Job, resp: UpstreamResponse, data: bytes, upstream: Codec) -> Ready:
        """A whole (non-stream) answer for a non-stream client."""
        ...

    def stream(
        self, job: Job, target: Target, resp: UpstreamResponse, pre: Prefetched, upstream: Codec
    ) -> Ready:
        """A stream client served by a stream, committed after `pre` (the prefetched start)."""
        ...


@dataclass(frozen=True, slots=True)
class Passthrough:
    clock: Clock
    keepalive: float  # seconds of upstream silence before a keep-alive goes to the client

    def request_body(self, job: Job, target: Target, upstream: Codec) -> bytes:
        channel, model = target.channel, target.member.model_name
        if job.client.format is WireFormat.GEMINI:  # the model lives in the URL
            return apply_overrides(job.client.body, channel.param_override)
        include_usage = job.client.format is WireFormat.OPENAI_CHAT and job.head.stream
        if model == job.head.model and not include_usage and not channel.param_override:
            return job.client.body
        top = job.head.top
        return patch_top(
            top, model=model, include_usage=include_usage, overrides=channel.param_override
        )

    def client_headers(self, job: Job) -> Mapping[str, str] | None:
        return job.client.headers

    def answer(self, job: Job, resp: UpstreamResponse, data: bytes, upstream: Codec) -> Ready:
        usage = upstream.usage_from_response(data)
        if usage is None:
            _require_json(data)  # a proxy's HTML page under 200 is a failure, not an answer
        headers = client_headers_from(resp.headers, all_headers=True)
        return BodyReady(resp.status, headers, data, usage)

    def stream(
        self, job: Job, target: Target, resp: UpstreamResponse, pre: Prefetched, upstream: Codec
    ) -> Ready:
        headers = client_headers_from(resp.headers, all_headers=True)
        return PassthroughStream(
            resp, pre, headers, upstream, self.clock, job.capture, keepalive_interval=self.keepalive
        )


@dataclass(frozen=True, slots=True)
class Conversion:
    clock: Clock
    keepalive: float

    def request_body(self, job: Job, target: Target, upstream: Codec) -> bytes:
        if job.canon is None:  # decoded once, on the first converting attempt
            job.canon = job.codec.decode_request(
                job.client.body, model=job.head.model, stream=job.head.stream
            )
        canon = msgspec.structs.replace(job.canon, model=target.member.model_name)
        losses: list[Loss] = []
        body = upstream.encode_request(canon, losses)
        job.losses = losses
        return apply_overrides(body, target.channel.param_override)

    def client_headers(self, job: Job) -> Mapping[str, str] | None:
        return None

    def answer(self, job: Job, resp: UpstreamResponse, data: bytes, upstream: Codec) -> Ready:
        canon = decoded(upstream, data)
        out = job.codec.encode_response(canon, job.losses)
        return BodyReady(200, json_headers(resp.headers), out, canon.usage)

    def stream(
        self, job: Job, target: Target, resp: UpstreamResponse, pre: Prefetched, upstream: Codec
    ) -> Ready:
        headers = client_headers_from(resp.headers, all_headers=False)
        headers += [("content-type", "text/event-stream"), ("cache-control", "no-cache")]
        model = target.member.model_name
        return ConvertedStream(
            resp, pre, headers, job.codec, model, self.clock, self.keepalive, job.capture
        )


@dataclass(frozen=True, slots=True)
class Paths:
    """Both paths, built once per relay; `for_attempt` picks one by protocol."""

    passthrough: Path
    conversion: Path

    @classmethod
    def build(cls, clock: Clock, keepalive: float) -> Paths:
        return cls(Passthrough(clock, keepalive), Conversion(clock, keepalive))

    def for_attempt(self, job: Job, target: Target) -> Path:
        same = target.channel.type is job.client.format
        return self.passthrough if same else self.conversion


def decoded(upstream: Codec, data: bytes) -> c.CanonResponse:
    """A whole upstream answer in canonical form; unreadable or failed ones fail over."""
    canon = upstream.decode_response(data)  # unreadable: UpstreamProtocol (protocols/jsonio)
    if canon.error is not None:
        raise UpstreamFailure(UpstreamProtocol(f"upstream response failed: {canon.error.message}"))
    return canon


def _require_json(data: bytes) -> None:
    jsonio.upstream_body(data, TopLevel, "answer under 200")
