"""Routing health shared by every instance through Redis, read from a local mirror.

Member health lives in one Redis hash (`{prefix}health`, item id -> "failures:trips:until:group"
with `until` in Redis server milliseconds). Each change runs one Lua script on Redis time, which
writes the new state and publishes it; every process applies what it hears to its own
`InMemoryHealth`, so `check()` on the request path never waits on Redis. A probe is granted by
Redis to one instance at a time and blocks the member elsewhere for `PROBE_LEASE` seconds.

Round-robin turns and sticky pins are Redis keys read in one round trip per request (`route`).
Keys resting after a 429, keys disabled after a 401/403 and their clearing are announced on
pub/sub.
While Redis is away each process keeps its own state; on its return the mirror is re-read.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import orjson

from octopus.coordination.link import SLOW_TIMEOUT, Call, RedisLink
from octopus.coordination.resp import Arg
from octopus.core.clock import Clock
from octopus.routing.catalog import RelayConfig
from octopus.routing.health import InMemoryHealth
from octopus.routing.keys import InMemoryKeyHealth

log = logging.getLogger("octopus.coordination")
HEALTH_CHANNEL = "health"
KEYS_CHANNEL = "keys"
PROBE_LEASE = 60.0  # a prober that died frees the member after this long

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
_PARSE = """
local f, trips, untilms = 0, 0, 0
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if raw then
  local it = string.gmatch(raw, '[^:]+')
  f, trips, untilms = tonumber(it()), tonumber(it()), tonumber(it())
end
"""
_SAVE = """
local value = f .. ':' .. trips .. ':' .. untilms .. ':' .. ARGV[2]
if f == 0 and trips == 0 then redis.call('HDEL', KEYS[1], ARGV[1])
else redis.call('HSET', KEYS[1], ARGV[1], value) end
redis.call('PUBLISH', KEYS[2], ARGV[1] .. ':' .. value .. ':' .. now)
"""
# ARGV: item, group, threshold, cooldown s, cooldown max s, probing here (1/0)
FAILURE = (
    _NOW
    + _PARSE
    + """
f = f + 1
if ARGV[6] == '1' or f >= tonumber(ARGV[3]) then
  trips = trips + 1
  f = 0
  local backoff = tonumber(ARGV[4]) * 2 ^ math.min(trips - 1, 30)
  untilms = now + math.floor(math.min(backoff, tonumber(ARGV[5])) * 1000)
end
"""
    + _SAVE
)
SUCCESS = _NOW + "local f, trips, untilms = 0, 0, 0\n" + _SAVE  # ARGV: item, group
# ARGV: item, group, lease ms; 1 = this instance probes, 0 = cooling or probed elsewhere
PROBE = (
    _NOW
    + _PARSE
    + """
if trips == 0 then return 1 end
if now < untilms then return 0 end
untilms = now + tonumber(ARGV[3])
"""
    + _SAVE
    + "return 1\n"
)
RELEASE = _NOW + _PARSE + "if trips == 0 then return 0 end\nuntilms = now\n" + _SAVE
# KEYS: turn counter, sticky pin; ARGV: want turn, want sticky -> {turn, pin or -1}, or only
# the turn when no pin was asked for (an integer reply: the cheapest to read)
ROUTE = """
local turn = 0
if ARGV[1] == '1' then turn = redis.call('INCR', KEYS[1]) - 1 end
if ARGV[2] ~= '1' then return turn end
return {turn, tonumber(redis.call('GET', KEYS[2]) or '-1')}
"""
# ARGV: group -> drops every member of the group, announces each
RESET = (
    _NOW
    + """
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local group = string.match(all[i + 1], '[^:]+:[^:]+:[^:]+:([^:]+)')
  if group == ARGV[1] then
    redis.call('HDEL', KEYS[1], all[i])
    redis.call('PUBLISH', KEYS[2], all[i] .. ':0:0:0:' .. group .. ':' .. now)
  end
end
"""
)
SNAPSHOT = _NOW + "return {now, redis.call('HGETALL', KEYS[1])}\n"


class SharedHealth(InMemoryHealth):
    """MemberHealth whose changes go through Redis and come back to every mirror."""

    def __init__(self, clock: Clock, link: RedisLink) -> None:
        super().__init__(clock)
        self._link = link
        self._hash = link.key("health")
        self._channel = link.channel(HEALTH_CHANNEL)
        self._probing: set[int] = set()  # members this process probes
        self._scripts = {
            name: link.script(body)
            for name, body in (
                ("failure", FAILURE),
                ("success", SUCCESS),
                ("probe", PROBE),
                ("reset", RESET),
                ("release", RELEASE),
                ("snapshot", SNAPSHOT),
            )
        }
        link.subscribe(HEALTH_CHANNEL, self._heard)
        link.on_resync(self.resync)

    def record_failure(self, group_id: int, item_id: int, config: RelayConfig) -> bool:
        probing = item_id in self._probing
        self._probing.discard(item_id)
        tripped = super().record_failure(group_id, item_id, config)
        args = [item_id, group_id, max(1, config.failure_threshold), config.cooldown]
        args += [config.cooldown_max, 1 if probing else 0]
        self._run("failure", args)
        return tripped

    def record_success(self, group_id: int, item_id: int) -> None:
        member = self._members.get(item_id)
        dirty = member is not None and (member.trips or member.failures or member.probing)
        self._probing.discard(item_id)
        super().record_success(group_id, item_id)
        if dirty:  # a healthy member costs no Redis call
            self._run("success", [item_id, group_id])

    def release_probe(self, group_id: int, item_id: int) -> None:
        if item_id in self._probing:  # no verdict: the member is free to probe again, everywhere
            self._probing.discard(item_id)
            self._run("release", [item_id, group_id])
        super().release_probe(group_id, item_id)

    def claim_probe(self, group_id: int, item_id: int) -> bool:
        won = super().claim_probe(group_id, item_id)
        if won:
            self._probing.add(item_id)
        return won

    async def claim_fleet_probe(self, group_id: int, item_id: int) -> bool | None:
        script = self._scripts["probe"]
        keys = [self._hash, self._channel]
        args = [item_id, group_id, int(PROBE_LEASE * 1000)]
        answer = await self._link.call(lambda: script(keys, args), None)
        return None if answer is None else bool(answer)

    def reset(self, group_id: int) -> None:
        super().reset(group_id)
        self._run("reset", [group_id])

    async def resync(self) -> None:
        """After (re)connecting: the whole hash, applied over the local mirror."""
        script = self._scripts["snapshot"]
        keys = [self._hash]
        answer: Any = await self._link.call(lambda: script(keys, ()), None, SLOW_TIMEOUT)
        if answer is None:
            return
        now, flat = int(answer[0]), answer[1]
        for index in range(0, len(flat), 2):
            self._apply(f"{flat[index].decode()}:{flat[index + 1].decode()}:{now}")

    def _run(self, name: str, args: list[Any]) -> None:
        script, keys = self._scripts[name], [self._hash, self._channel]
        self._link.spawn(self._link.call(lambda: script(keys, args), None, SLOW_TIMEOUT))

    def _heard(self, data: bytes) -> None:
        self._apply(data.decode())

    def _apply(self, text: str) -> None:
        """`item:failures:trips:until:group:now` (ms of Redis time) into the mirror."""
        try:
            item, failures, trips, until, group, now = (int(p) for p in text.split(":"))
        except ValueError:
            return
        member = self._member(group, item)
        member.failures, member.trips = failures, trips
        left = max(0.0, (until - now) / 1000.0)
        member.cooldown_until = self._clock.monotonic() + left if left else 0.0
        if item not in self._probing:
            member.probing = False  # another instance's probe shows as a short cooldown here
        self._changed(group)


class SharedKeyHealth(InMemoryKeyHealth):
    """KeyHealth whose rests, disables and clears are announced to every instance."""

    def __init__(self, clock: Clock, link: RedisLink) -> None:
        super().__init__(clock)
        self._link = link
        link.subscribe(KEYS_CHANNEL, self._heard)

    def rest(self, channel_id: int, key_id: int, seconds: float, reason: str = "") -> None:
        super().rest(channel_id, key_id, seconds, reason)
        self._tell({"rest": [channel_id, key_id, seconds, reason]})

    def disable(self, channel_id: int, key_id: int, reason: str) -> None:
        super().disable(channel_id, key_id, reason)
        self._tell({"disable": [channel_id, key_id, reason]})

    def clear(self, channel_id: int) -> None:
        super().clear(channel_id)
        self._tell({"clear": [channel_id]})  # the admin re-enabled it: usable everywhere

    def clear_rest(self, channel_id: int, key_id: int) -> None:
        super().clear_rest(channel_id, key_id)
        self._tell({"clear_rest": [channel_id, key_id]})

    def _tell(self, message: dict[str, Any]) -> None:
        self._link.publish(KEYS_CHANNEL, orjson.dumps(message))

    def _heard(self, data: bytes) -> None:
        message = orjson.loads(data)
        if "rest" in message:
            channel_id, key_id, seconds, reason = message["rest"]
            InMemoryKeyHealth.rest(self, channel_id, key_id, seconds, reason)
        elif "disable" in message:
            channel_id, key_id, reason = message["disable"]
            InMemoryKeyHealth.disable(self, channel_id, key_id, reason)
        elif "clear" in message:
            InMemoryKeyHealth.clear(self, *message["clear"])
        elif "clear_rest" in message:
            InMemoryKeyHealth.clear_rest(self, *message["clear_rest"])


class RedisRouting:
    """`SharedRouting`: turns, pins and the fleet's probe grant."""

    def __init__(self, link: RedisLink, health: SharedHealth) -> None:
        self._link = link
        self._health = health
        self._route = link.script(ROUTE)
        self._flags = {True: link.bulk(1), False: link.bulk(0)}
        self._turn_keys: dict[int, Arg] = {}  # encoded once per group

    def route(self, group_id: int, key_id: int, turn: bool, sticky: bool) -> SentRoute:
        turn_key = self._turn_keys.get(group_id)
        if turn_key is None:
            turn_key = self._turn_keys[group_id] = self._link.bulk(self._link.key("turn", group_id))
        # without stickiness the script reads no pin: the turn's name stands in (same slot)
        keys = [turn_key, self._link.key("pin", key_id, group_id) if sticky else turn_key]
        call = self._link.send(self._route, keys, [self._flags[turn], self._flags[sticky]])
        return SentRoute(self._link, call)

    async def claim_probe(self, group_id: int, item_id: int) -> bool | None:
        return await self._health.claim_fleet_probe(group_id, item_id)

    def pin(self, key_id: int, group_id: int, item_id: int, seconds: float) -> None:
        key, millis = self._link.key("pin", key_id, group_id), max(1, math.ceil(seconds * 1000))
        redis = self._link.redis
        self._link.spawn(
            self._link.call(lambda: redis.set(key, item_id, px=millis), None, SLOW_TIMEOUT)
        )

    def clear(self, group_id: int) -> None:
        """Pins of one group are left to expire: they are keyed by API key first."""


class SentRoute:
    """`routing.state.Route`: the route script under way."""

    __slots__ = ("_call", "_link")

    def __init__(self, link: RedisLink, call: Call) -> None:
        self._link, self._call = link, call

    async def answer(self) -> tuple[int, int | None] | None:
        answer: Any = await self._link.reply(self._call, None)
        if answer is None:
            return None
        if isinstance(answer, int):
            return answer, None
        pin = int(answer[1])
        return int(answer[0]), (pin if pin >= 0 else None)

    def drop(self) -> None:
        self._call.drop()
