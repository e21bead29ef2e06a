"""The failover loop: members in the mode's order, each at most once, within the attempt cap and
the request deadline, with the health bookkeeping; what fails over is decided by relay/retry.py.

Per member, keys rotate: a key answered 429 or 403 rests, one answered 401 rests until a probe
decides (relay/key_checks.py); then the next key of the same channel is tried (at most
MAX_KEY_TRIES calls per member). Retryable
failures (connect, timeout, 408/429/5xx, an error as the first stream event) move on to the next
member; client faults (400/404/422...) end the loop and go back to the client unchanged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from octopus.core.clock import Clock, elapsed_ms
from octopus.errors import (
    ErrorKind,
    GatewayError,
    MembersResting,
    NoChannelAvailable,
    NotSupported,
    UpstreamConnect,
    UpstreamError,
    UpstreamStatus,
    UpstreamTimeout,
)
from octopus.records.request import Attempt, RequestRecord
from octopus.relay import retry
from octopus.relay.channel_events import ChannelEvents
from octopus.relay.job import Job
from octopus.relay.key_checks import KeyChecks
from octopus.relay.outbound import Target
from octopus.relay.ready import BodyReady, Ready, UpstreamFailure, error_reply
from octopus.relay.rounds import Rounds, RoundStopped
from octopus.routing import balancer
from octopus.routing.balancer import Candidate
from octopus.routing.catalog import Catalog, Channel, Group
from octopus.routing.protocols import for_client
from octopus.routing.state import Route, RoutingState

MAX_KEY_TRIES = 3
DEFAULT_REST = 60.0
_OVERLOAD = frozenset({429, 503, 529})


class Exchange(Protocol):
    """One attempt against one member, up to the commit point (chat or embeddings)."""

    async def prepare(self, job: Job, target: Target) -> Ready: ...


@dataclass(slots=True)
class _Outcome:
    ready: Ready | None = None
    failure: UpstreamFailure | None = None
    fault: bool = False  # `ready` relays a client fault: the member itself is fine
    stopped: bool = False  # the admin stopped this round: no verdict on the member


class Attempts:
    def __init__(
        self,
        exchanger: Exchange,
        state: RoutingState,
        events: ChannelEvents,
        clock: Clock,
        checks: KeyChecks,
        rounds: Rounds | None = None,
    ) -> None:
        self.checks = checks
        self._exchanger = exchanger
        self._state = state
        self._events = events
        self._clock = clock
        self.rounds = rounds or Rounds()

    async def run(
        self,
        job: Job,
        group: Group,
        catalog: Catalog,
        record: RequestRecord,
        route: Route | None = None,
    ) -> Ready:
        """A Ready to deliver (success, or a client fault relayed as is); else the final error.
        `route`: the shared turn and pin, already asked for (`RoutingState.ask`)."""
        state, config = self._state, job.config
        turn, sticky = await state.begin(group, record.api_key_id, route)
        plan = balancer.plan(group, state.health, rng=state.rng, turn=turn, sticky_item=sticky)
        failures: list[GatewayError] = []
        tried = 0
        for index, candidate in enumerate(plan.candidates):
            if tried >= config.max_attempts or self._clock.monotonic() >= job.deadline:
                break
            channel = catalog.channels.get(candidate.member.channel_id)
            if channel is None or not channel.enabled:
                continue  # a disabled channel never receives traffic
            # a generic channel answers in the client's protocol when its grant allows it
            channel = for_client(channel, candidate.member.model_name, job.client.format)
            if channel is None:
                continue  # no protocol granted for this model
            if candidate.probe and not await state.claim_probe(group.id, candidate.member.id):
                continue
            if tried and config.retry_interval > 0:
                await asyncio.sleep(
                    min(config.retry_interval, job.deadline - self._clock.monotonic())
                )
            tried += 1
            # nothing to fail over to: a stream may commit on its first good event
            job.last_chance = tried >= config.max_attempts or index == len(plan.candidates) - 1
            outcome = await self._member(job, group, candidate, channel, record)
            if outcome.ready is not None:
                return outcome.ready
            if outcome.failure is not None:
                failures.append(outcome.failure.error)
        raise final_error(failures, plan, group.name)

    async def _member(
        self, job: Job, group: Group, candidate: Candidate, channel: Channel, record: RequestRecord
    ) -> _Outcome:
        member, health = candidate.member, self._state.health
        keys = self._state.keys.usable(channel)[:MAX_KEY_TRIES]
        if not keys:  # built only when needed: the common case has a key
            rest_left = self._state.keys.rest_left(channel)
            outcome = _Outcome(failure=UpstreamFailure(_no_key(channel, rest_left)))
        try:
            for key in keys:
                outcome = await self._once(job, Target(member, channel, key), record)
                if outcome.stopped:
                    break
                if outcome.ready is not None or not self._key_problem(channel, key.id, outcome):
                    break
        except BaseException:
            health.release_probe(group.id, member.id)
            raise
        if outcome.ready is not None and not outcome.fault:
            self._succeeded(job, group, member.id, record.api_key_id)
        elif outcome.failure is not None and retry.cools_member(
            outcome.failure.error, stopped=outcome.stopped
        ):
            health.record_failure(group.id, member.id, job.config)
        else:
            health.release_probe(group.id, member.id)
        return outcome

    async def _once(self, job: Job, target: Target, record: RequestRecord) -> _Outcome:
        attempt = Attempt(
            target.channel.id,
            target.channel.name,
            target.member.model_name,
            target.key.id,
            started_at=self._clock.time(),
        )
        record.attempts.append(attempt)
        record.channel_id, record.channel_name = target.channel.id, target.channel.name
        record.upstream_model, record.upstream_format = (
            target.member.model_name,
            target.channel.type.value,
        )
        began = self._clock.monotonic()
        try:
            work = self._exchanger.prepare(job, target)
            ready = await self.rounds.run(record.request_id, len(record.attempts), work)
        except RoundStopped:
            attempt.outcome, attempt.error = "stopped", "stopped by the admin"
            attempt.duration_ms = elapsed_ms(self._clock, began)
            stop = UpstreamError("the admin stopped this round")
            return _Outcome(failure=UpstreamFailure(stop), stopped=True)
        except UpstreamFailure as failure:
            _close(attempt, failure, began, self._clock)
            if retry.is_client_fault(failure.error):
                return _Outcome(_relay_fault(job, target, failure), failure, fault=True)
            return _Outcome(failure=failure)
        except NotSupported as exc:
            attempt.outcome, attempt.error = "skipped", exc.message
            return _Outcome(failure=UpstreamFailure(retry.not_retried(exc)))
        except GatewayError as exc:  # the request itself cannot be converted
            attempt.outcome, attempt.error = "rejected", exc.message
            raise
        except asyncio.CancelledError:
            attempt.outcome, attempt.error = "canceled", "client disconnected"
            attempt.duration_ms = elapsed_ms(self._clock, began)
            raise
        except Exception as exc:  # a fault of ours, not the client's: logged as such
            attempt.outcome, attempt.error = "failed", f"internal error ({type(exc).__name__})"
            attempt.duration_ms = elapsed_ms(self._clock, began)
            raise
        attempt.outcome, attempt.status = "success", ready.status
        attempt.duration_ms = elapsed_ms(self._clock, began)
        return _Outcome(ready=ready)

    def _key_problem(self, channel: Channel, key_id: int, outcome: _Outcome) -> bool:
        """Disable or rest the key when the upstream blamed it; True = try the next key."""
        error = outcome.failure.error if outcome.failure else None
        if not isinstance(error, UpstreamStatus):
            return False
        if error.status == 401:
            self.checks.unauthorized(channel, key_id, error.message)
            return True
        if error.status == 403:
            self.checks.forbidden(channel, key_id, error.message)
            return True
        if error.status == 429:
            seconds = error.retry_after if error.retry_after else DEFAULT_REST
            error.retry_after = seconds  # the client is told when this member is back
            reason = f"upstream answered 429 (resting {seconds:g}s)"
            self._state.keys.rest(channel.id, key_id, seconds, reason)
            self._events.key_resting(channel.id, key_id, seconds)
            return True
        return False

    def _succeeded(self, job: Job, group: Group, item_id: int, key_id: int) -> None:
        self._state.health.record_success(group.id, item_id)
        if job.config.sticky_seconds > 0:
            until = self._state.pin(key_id, group.id, item_id, job.config.sticky_seconds)
            self._state.health.note_sticky(group.id, until)


def _relay_fault(job: Job, target: Target, failure: UpstreamFailure) -> Ready:
    """A client fault goes back at once: as the upstream sent it, or in the client's format."""
    if failure.reply is not None and target.channel.type is job.client.format:
        status, headers, body = failure.reply
        has_type = any(name == "content-type" for name, _ in headers)
        return BodyReady(
            status, headers if has_type else [*headers, ("content-type", "application/json")], body
        )
    return error_reply(job.codec, failure.error)


def _close(attempt: Attempt, failure: UpstreamFailure, began: float, clock: Clock) -> None:
    attempt.outcome = retry.attempt_outcome(failure.error)
    attempt.status = failure.error.status if isinstance(failure.error, UpstreamStatus) else 0
    attempt.error = failure.error.message
    attempt.timed_out = isinstance(failure.error, UpstreamTimeout)
    attempt.duration_ms = int((clock.monotonic() - began) * 1000)


def _no_key(channel: Channel, rest_left: float) -> GatewayError:
    # clients see this text: the channel by number, never by name (docs/security.md)
    if rest_left > 0:
        return MembersResting(
            f"every key of channel #{channel.id} is rate limited or resting", retry_after=rest_left
        )
    return NoChannelAvailable(f"channel #{channel.id} has no usable key")


def public_text(error: GatewayError) -> str:
    """What a client may read about one failed attempt: no hosts, ports or addresses (the
    transport's own words stay in the attempt's log record)."""
    if isinstance(error, UpstreamConnect):
        return "could not connect to the upstream"
    return error.message


def final_error(failures: list[GatewayError], plan: balancer.Plan, model: str) -> GatewayError:
    """The one error the client gets when no member answered: 429, 502, 503 or 504 as fits."""
    cooling = [plan.retry_after] if plan.cooling else []
    if not failures:
        return _nothing_tried(plan, model)
    last = failures[-1]
    count = f"all {len(failures)} upstream attempt{'s' if len(failures) > 1 else ''} failed"
    message = f"{count}; last error: {public_text(last)}"
    if all(isinstance(f, NotSupported) for f in failures):
        return last
    if all(isinstance(f, UpstreamTimeout) for f in failures):
        return UpstreamTimeout(message)
    if all(retry.rate_limited(f) for f in failures):
        return _rate_limit_error(failures, cooling, message)
    wait = min((f.retry_after for f in failures if f.retry_after), default=None)
    if all(f.status in _OVERLOAD or isinstance(f, NoChannelAvailable) for f in failures):
        return NoChannelAvailable(message, retry_after=wait)
    return UpstreamError(message)


def _nothing_tried(plan: balancer.Plan, model: str) -> GatewayError:
    """No member could be tried: 429 while some cool down (they come back), else 503."""
    if not plan.cooling:
        return NoChannelAvailable(f"no available upstream for model '{model}' (none enabled)")
    return MembersResting(
        f"every member of model '{model}' is cooling down or resting ({plan.cooling} cooling down)",
        retry_after=max(1.0, plan.retry_after),
    )


def _rate_limit_error(
    failures: list[GatewayError], cooling: list[float], message: str
) -> GatewayError:
    """Every member tried was rate limited or rests (the others cool down): a 429 whose
    Retry-After is the upstream's own, or the time until the first member is usable again."""
    waits = [f.retry_after for f in failures if f.retry_after] + cooling
    wait = max(1.0, min(waits)) if waits else None
    if all(isinstance(f, MembersResting) for f in failures):
        return MembersResting(message, retry_after=wait)
    # the providers said "rate limited": the client gets a 429 it knows how to back off on
    return UpstreamStatus(message, status=429, kind=ErrorKind.RATE_LIMIT, retry_after=wait)
