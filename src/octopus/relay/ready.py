"""What an attempt hands back once it has passed the failover window: something to deliver.

Everything before `deliver` may still fail over; `deliver` writes to the client (the commit)
and never raises for upstream trouble: it reports it in `Delivery.error` after telling the
client in-band.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from octopus.errors import GatewayError, NotSupported
from octopus.protocols import Codec, WireFormat, get_codec
from octopus.protocols import canonical as c
from octopus.relay.context import HeaderList, Responder


@dataclass(slots=True)
class Delivery:
    usage: c.Usage | None = None
    error: GatewayError | None = None  # the stream broke after commit
    body: bytes | None = None  # the client-format response (a stream's first `capture` bytes)
    first_byte_at: float | None = None  # monotonic
    capture: int = 0  # streamed bytes still to keep for the log (counts down; <= 0: no more)
    output_size: int = 0  # characters of output text delivered (what an estimate bills)

    pieces: list[bytes] = field(default_factory=list)  # what was kept, as written: no copy

    def sent(self, data: bytes) -> None:
        """Keep the first `capture` bytes written to the client (the pump inlines this)."""
        if self.capture > 0:
            self.pieces.append(data)
            self.capture -= len(data)

    @property
    def kept(self) -> bytes | None:
        """The response body the request log may keep (None: nothing was captured)."""
        if self.body is not None:
            return self.body
        if not self.pieces:
            return None
        data = b"".join(self.pieces)  # the last piece ran over by -capture bytes, if it did
        return data[: len(data) + self.capture] if self.capture < 0 else data


class Ready(Protocol):
    status: int

    async def deliver(self, responder: Responder) -> Delivery: ...

    def progress(self) -> Delivery:
        """What was delivered so far (with the usage seen): billed when delivery is cut short."""
        ...

    async def aclose(self) -> None: ...


class UpstreamFailure(Exception):
    """An attempt failed before commit; keeps the upstream's error reply for intact relaying."""

    def __init__(
        self, error: GatewayError, reply: tuple[int, HeaderList, bytes] | None = None
    ) -> None:
        super().__init__(error.message)
        self.error = error
        self.reply = reply


@dataclass(slots=True)
class BodyReady:
    """A complete body (non-stream answer, or an upstream error relayed as it came)."""

    status: int
    headers: HeaderList
    body: bytes
    usage: c.Usage | None = None
    keep_body: bool = field(default=True)

    async def deliver(self, responder: Responder) -> Delivery:
        await responder.start(self.status, [*self.headers, ("content-length", str(len(self.body)))])
        await responder.end(self.body)
        return self.progress()

    def progress(self) -> Delivery:
        # the upstream's work is complete once the body is here, however the client leaves
        body = self.body if self.keep_body else None
        return Delivery(self.usage, body=body, output_size=len(self.body))

    async def aclose(self) -> None:
        pass


def codec_for(fmt: WireFormat) -> Codec:
    try:
        return get_codec(fmt)
    except KeyError:
        raise NotSupported(f"the '{fmt.value}' wire format is not supported yet") from None


def error_reply(codec: Codec, err: GatewayError) -> BodyReady:
    """A gateway error in the client's own format (status, JSON body, Retry-After)."""
    status, body = codec.encode_error(err)
    headers: HeaderList = [("content-type", "application/json")]
    if err.retry_after:
        headers.append(("retry-after", str(max(1, round(err.retry_after)))))
    return BodyReady(status, headers, body)
