"""RelayService: one client request -> admission -> failover attempts -> one committed answer.

Nothing here touches the database: the catalog getter returns the current immutable snapshot,
records go to the sink, key health to ChannelEvents, limits and prices to injected objects.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from octopus.core.clock import Clock, elapsed_ms
from octopus.core.ids import RequestIds
from octopus.errors import ClientError, GatewayError, ModelNotFound
from octopus.pricing.cost import PriceBook
from octopus.protocols import Codec
from octopus.records.bodies import BodyMode, BodyPolicy, BodySettings, keep_body
from octopus.records.request import RequestRecord
from octopus.relay import auth, budget, metering
from octopus.relay.attempts import Attempts
from octopus.relay.body import Head, read_head
from octopus.relay.channel_events import ChannelEvents
from octopus.relay.context import ClientRequest, Operation, Responder
from octopus.relay.embeddings import EmbedExchanger
from octopus.relay.exchange import ExchangeLimits, Exchanger
from octopus.relay.job import Job
from octopus.relay.key_checks import KeyChecks
from octopus.relay.limits import KeyLimiter
from octopus.relay.ready import Delivery, Ready, codec_for, error_reply
from octopus.relay.sink import RecordSink
from octopus.routing.catalog import ApiKey, Catalog, Group
from octopus.routing.state import Route, RoutingState
from octopus.upstream.transport import Transport


@dataclass(frozen=True, slots=True)
class RelayLimits:
    """Bounds from Settings (relay_max_body_size, relay_max_sse_event_size)."""

    max_body_size: int = 64 * 1024 * 1024
    exchange: ExchangeLimits = field(default_factory=ExchangeLimits)
    bodies: BodySettings = field(default_factory=BodyPolicy)  # e.g. the live settings object


@dataclass(slots=True)
class _Admitted:
    key: ApiKey
    head: Head
    group: Group
    catalog: Catalog


@dataclass
class RelayService:
    catalog: Callable[[], Catalog]
    transport: Transport
    sink: RecordSink
    prices: PriceBook
    limiter: KeyLimiter
    routing: RoutingState
    events: ChannelEvents
    clock: Clock
    limits: RelayLimits = field(default_factory=RelayLimits)

    def __post_init__(self) -> None:
        self._ids = RequestIds()
        exchanger = Exchanger(self.transport, self.clock, self.limits.exchange)
        checks = KeyChecks(self.routing.keys, self.events, self.transport)
        self._attempts = Attempts(exchanger, self.routing, self.events, self.clock, checks)
        embedder = EmbedExchanger(self.transport, self.clock, self.limits.exchange)
        self._embed_attempts = Attempts(
            embedder, self.routing, self.events, self.clock, checks, self._attempts.rounds
        )

    def running_rounds(self) -> dict[str, int]:
        """Request id -> number of the round waiting for its upstream (stoppable) right now."""
        return self._attempts.rounds.running()

    def stop_round(self, request_id: str, number: int) -> bool:
        """Stop a running request's current upstream attempt (before its answer is committed)."""
        return self._attempts.rounds.stop(request_id, number)

    def authenticate(self, raw_key: str) -> ApiKey:
        """The caller's ApiKey or Unauthorized / Forbidden (also used by the model listings)."""
        return auth.authenticate(self.catalog(), raw_key, self.clock.time())

    async def handle(self, request: ClientRequest, responder: Responder) -> None:
        codec = codec_for(request.format)
        route: Route | None = None
        try:
            admitted = self._admit(request)
            # asked before the limiter's call: with Redis both leave in one write, one round trip
            route = self.routing.ask(admitted.group, admitted.key.id)
            lease = await self.limiter.acquire(admitted.key, self._reserve(request, admitted))
        except BaseException as exc:
            if route is not None:
                route.drop()  # refused (or the client left): nobody reads the turn
            if not isinstance(exc, GatewayError):
                raise
            self._log_refusal(request, exc)
            await error_reply(codec, exc).deliver(responder)
            return
        record = self._record(request, admitted)
        self._notify(self.sink.started, record)
        began = self.clock.monotonic()
        try:
            await self._route(request, admitted, codec, record, responder, route)
        except asyncio.CancelledError:
            record.status, record.error = "canceled", record.error or "client disconnected"
            raise
        finally:
            if route is not None:
                route.drop()  # read by now, unless the request failed before routing
            if record.status == "running":  # an unexpected error escaped: never log it as running
                record.status, record.error = "failed", record.error or "internal error"
            record.duration_ms = elapsed_ms(self.clock, began)
            self._bill_abandoned(record, len(request.body))
            self.limiter.settle(lease, record.usage.total, record.cost.total)
            record.request_body = keep_body(
                self.limits.bodies, request.body, success=record.status == "success"
            )
            self._notify(self.sink.finished, record)

    def _admit(self, request: ClientRequest) -> _Admitted:
        catalog = self.catalog()
        key = request.key or auth.authenticate(catalog, request.api_key, self.clock.time())
        head = read_head(request.body, need_model=request.path_model is None)
        if request.path_model is not None:
            head.model = request.path_model
            head.stream = bool(request.path_stream)
        if request.operation is not Operation.GENERATE:
            head.stream = False  # embeddings never stream
        auth.check_model(key, head.model)
        group = catalog.groups.get(head.model)
        if group is None:
            raise ModelNotFound(f"model '{head.model}' does not exist")
        return _Admitted(key, head, group, catalog)

    def _log_refusal(self, request: ClientRequest, err: GatewayError) -> None:
        """A known key's refused request is logged too; unknown keys are not (no log flooding)."""
        try:
            key = auth.authenticate(self.catalog(), request.api_key, self.clock.time())
        except GatewayError:
            return
        record = RequestRecord(
            request_id=self._ids.next(),
            started_at=self.clock.time(),
            client_format=_client_format(request),
            requested_model=request.path_model or _model_of(request.body),
            api_key_id=key.id,
            api_key_name=key.name,
            status="failed",
            http_status=err.status,
            error=err.message,
        )
        self._notify(self.sink.finished, record)

    def _record(self, request: ClientRequest, admitted: _Admitted) -> RequestRecord:
        return RequestRecord(
            request_id=self._ids.next(),
            started_at=self.clock.time(),
            client_format=_client_format(request),
            requested_model=admitted.head.model,
            api_key_id=admitted.key.id,
            api_key_name=admitted.key.name,
            group_id=admitted.group.id,
            stream=admitted.head.stream,
        )

    async def _route(
        self,
        request: ClientRequest,
        admitted: _Admitted,
        codec: Codec,
        record: RequestRecord,
        responder: Responder,
        route: Route | None,
    ) -> None:
        config = admitted.group.config
        job = Job(
            request, admitted.head, codec, config, self.clock.monotonic() + config.request_deadline
        )
        bodies = self.limits.bodies
        # one byte over the limit, so that keep_body marks the cut
        job.capture = 0 if bodies.log_body_mode == BodyMode.OFF else bodies.log_body_max_bytes + 1
        began = self.clock.monotonic()
        generate = request.operation is Operation.GENERATE
        attempts = self._attempts if generate else self._embed_attempts
        try:
            ready = await attempts.run(job, admitted.group, admitted.catalog, record, route)
        except GatewayError as err:
            record.status, record.error = "failed", err.message
            if not isinstance(err, ClientError):  # the log holds the detail; the id finds it
                err.message = f"{err.message} (request id {record.request_id})"
            failure = error_reply(codec, err)
            record.http_status = failure.status
            await failure.deliver(responder)
            return
        record.losses = [f"{loss.field}: {loss.reason}" for loss in job.losses]
        try:
            delivery = await ready.deliver(responder)
        except BaseException as exc:  # the client left (or worse) mid-answer: bill what went out
            cut = "client disconnected" if isinstance(exc, asyncio.CancelledError) else "internal"
            self._settle(record, ready, ready.progress(), began, len(request.body), cut=cut)
            raise
        finally:
            await ready.aclose()
        self._settle(record, ready, delivery, began, len(request.body))

    def _reserve(self, request: ClientRequest, admitted: _Admitted) -> float:
        if admitted.key.max_cost <= 0:
            return 0.0
        generates = request.operation is Operation.GENERATE
        return budget.worst_case(
            admitted.head, admitted.group, self.prices, len(request.body), generates=generates
        )

    def _bill_abandoned(self, record: RequestRecord, size: int) -> None:
        """Attempts cut before their answer (client gone, round stopped, timed out) still sent
        the prompt."""
        abandoned = [
            a.model for a in record.attempts if a.timed_out or a.outcome in ("canceled", "stopped")
        ]
        if abandoned:
            metering.add_input(record, size, abandoned, self.prices)

    def _settle(
        self,
        record: RequestRecord,
        ready: Ready,
        delivery: Delivery,
        began: float,
        size: int,
        *,
        cut: str = "",
    ) -> None:
        record.http_status = ready.status
        first = (
            delivery.first_byte_at if delivery.first_byte_at is not None else self.clock.monotonic()
        )
        record.first_token_ms = int((first - began) * 1000)
        if cut:
            record.status = "canceled" if cut == "client disconnected" else "failed"
            record.error = cut
        elif delivery.error is not None:
            record.status, record.error = "failed", delivery.error.message
        elif ready.status >= 400:
            record.status = "failed"
            record.error = record.attempts[-1].error if record.attempts else "upstream error"
        else:
            record.status = "success"
        if ready.status < 400:
            metering.settle(
                record,
                delivery.usage,
                self.prices,
                request_size=size,
                output_size=delivery.output_size,
                complete=not cut and delivery.error is None,
            )
        record.response_body = keep_body(
            self.limits.bodies, delivery.kept, success=record.status == "success"
        )

    @staticmethod
    def _notify(call: Callable[[RequestRecord], None], record: RequestRecord) -> None:
        # not contextlib.suppress: that is three Python calls more, twice per request
        try:  # noqa: SIM105
            call(record)
        except Exception:  # noqa: S110 - a broken sink must never break the relay
            pass


def _client_format(request: ClientRequest) -> str:
    """The endpoint for the log: the wire format, with `/embeddings` for embeddings calls."""
    if request.operation is Operation.GENERATE:
        return request.format.value
    return f"{request.format.value}/embeddings"


def _model_of(body: bytes) -> str:
    """The model a refused request asked for, when its body says (best effort, for the log)."""
    try:
        return read_head(body, need_model=False).model
    except GatewayError:
        return ""
