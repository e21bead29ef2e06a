"""The live log and running rounds of every process, through Redis; this process alone while
Redis is away (the answer's scope says `local`, logged once per outage).

Records cross Redis only while someone watches: a process with live subscribers announces
`live:watch` every `WATCH_SECONDS`; a process that heard it publishes its started/finished
records on `live:record` for `FORWARD_SECONDS` after the last announcement. Questions (running
rounds, stop a round, a snapshot) are scattered on `live:ask`: PUBLISH says how many processes
heard it, each answers by RPUSH to `{prefix}reply:<id>`, the asker waits for that many answers
within `ASK_SECONDS`. Messages carry the sender's origin id; a process ignores its own.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any

import orjson

from octopus.coordination.live_fleet import LiveFeed, LocalFleet, RoundControl, Scope, Seen

if TYPE_CHECKING:
    from octopus.coordination.link import RedisLink

log = logging.getLogger("octopus.shared")
WATCH_SECONDS = 3.0
FORWARD_SECONDS = 10.0
ASK_SECONDS = 1.0
BATCH_SECONDS = 0.05  # what forwarding may add to a record's way to a remote live view
REPLY_TTL = 10  # seconds a late answer lingers before Redis drops it
SLOW_TIMEOUT = 1.0  # as link.SLOW_TIMEOUT (not imported: that would load redis at import)
ASK, WATCH, RECORD = "live:ask", "live:watch", "live:record"


class RedisFleet:
    def __init__(self, link: RedisLink, feed: LiveFeed, rounds: RoundControl) -> None:
        self._link = link
        self._feed = feed
        self._local = LocalFleet(feed, rounds)
        self._origin = secrets.token_hex(8)
        self._forward_until = 0.0
        self._warned = False
        self._task: asyncio.Task[None] | None = None
        self._outbox: list[bytes] = []  # records waiting for the one sender: order kept
        self._sending = False
        link.subscribe(ASK, self._asked)
        link.subscribe(WATCH, self._watched)
        link.subscribe(RECORD, self._heard_record)

    def start(self) -> None:
        self._task = asyncio.create_task(self._announce(), name="live-watch")

    async def stop_announcing(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def running(self) -> Seen[dict[str, int]]:
        here = self._local.rounds.running_rounds()
        gathered = await self._gather("running")
        if gathered is None:
            return self._alone(here)
        answers, scope = gathered
        for answer in answers:
            here.update(_rounds(answer))
        return Seen(here, scope)

    async def stop(self, request_id: str, number: int) -> Seen[bool]:
        if self._local.rounds.stop_round(request_id, number):
            return Seen(True, "fleet")  # a request runs in one process: no need to ask
        gathered = await self._gather("stop", request_id, number)
        if gathered is None:
            return self._alone(False)
        answers, scope = gathered
        return Seen(b"1" in answers, scope)

    async def snapshot(self) -> Seen[list[bytes]]:
        """Also an announcement: whoever answers forwards its records from now on."""
        here = self._feed.snapshot()
        gathered = await self._gather("snapshot")
        if gathered is None:
            return self._alone(here)
        answers, scope = gathered
        return Seen(_newest_first(here, answers), scope)

    async def clear(self) -> None:
        """Nobody answers a clear: a process Redis cannot reach keeps its recent records."""
        self._feed.clear()
        await self._publish(ASK, self._question("clear"))

    def _alone(self, value: Any) -> Seen[Any]:
        if not self._warned:
            self._warned = True
            log.warning("redis away: live log and running rounds show this process only")
        return Seen(value, "local")

    async def _gather(self, kind: str, *args: object) -> tuple[list[bytes], Scope] | None:
        """The other processes' answers, or None when Redis is away (nobody could be asked)."""
        ask_id = secrets.token_hex(8)
        heard = await self._publish(ASK, self._question(kind, *args, ask_id=ask_id))
        if heard is None:
            return None
        self._warned = False
        expected = max(0, heard - 1 if self._link.subscribed.is_set() else heard)  # not us
        answers = await self._collect(self._link.key("reply", ask_id), expected)
        return answers, "fleet" if len(answers) >= expected else "partial"

    def _question(self, kind: str, *args: object, ask_id: str = "") -> bytes:
        return orjson.dumps({"origin": self._origin, "id": ask_id, "kind": kind, "args": args})

    async def _collect(self, reply: str, expected: int) -> list[bytes]:
        answers: list[bytes] = []
        deadline = time.monotonic() + ASK_SECONDS
        while len(answers) < expected and (left := deadline - time.monotonic()) > 0:
            got = await self._pop(reply, max(left, 0.01))  # BLPOP's 0 would block for ever
            if got is None:
                break  # the bound passed, or Redis went away: answer with what came
            answers.append(got)
        return answers

    async def _pop(self, reply: str, wait: float) -> bytes | None:
        redis = self._link.redis
        got = await self._link.call(
            lambda: redis.blpop([reply], timeout=wait), None, wait + SLOW_TIMEOUT
        )
        if got is None:
            return None
        value = got[1]
        return value.encode() if isinstance(value, str) else value

    def _asked(self, data: bytes) -> None:
        ask = _ask(data)
        if ask is None or ask["origin"] == self._origin:
            return
        kind, args = ask["kind"], ask["args"]
        if kind == "snapshot":
            self._open_window()  # a new stream opened somewhere: forward from now
        answer = self._answer(kind, args)
        if answer is not None:
            self._link.spawn(self._reply(self._link.key("reply", ask["id"]), answer))

    def _answer(self, kind: str, args: list[Any]) -> bytes | None:
        rounds = self._local.rounds
        if kind == "running":
            return orjson.dumps(rounds.running_rounds())
        if kind == "stop" and len(args) == 2:
            return b"1" if rounds.stop_round(str(args[0]), int(args[1])) else b"0"
        if kind == "snapshot":
            return b"[" + b",".join(self._feed.snapshot()) + b"]"
        if kind == "clear":
            self._feed.clear()
        return None

    async def _reply(self, key: str, answer: bytes) -> None:
        async def push() -> None:
            async with self._link.redis.pipeline(transaction=False) as pipe:
                pipe.rpush(key, answer)
                pipe.expire(key, REPLY_TTL)
                await pipe.execute()

        await self._link.call(push, None, SLOW_TIMEOUT)

    def _watched(self, data: bytes) -> None:
        if data.decode(errors="replace") != self._origin:
            self._open_window()

    def _open_window(self) -> None:
        self._forward_until = time.monotonic() + FORWARD_SECONDS
        self._feed.forward = self._forward

    def _forward(self, record: bytes) -> None:
        if time.monotonic() > self._forward_until:
            self._feed.forward = None  # nobody announced for a while: back to the free path
            return
        self._outbox.append(record)
        if not self._sending:
            self._sending = True
            self._link.spawn(self._send())

    async def _send(self) -> None:
        """One sender: a finish never overtakes its start; what piles up goes in one message."""
        try:
            while self._outbox:
                await asyncio.sleep(BATCH_SECONDS)  # under load: one PUBLISH for many records
                batch, self._outbox = self._outbox, []
                lines = [self._origin.encode(), *batch]  # JSON records hold no raw newline
                await self._publish(RECORD, b"\n".join(lines))
        finally:
            self._sending = False

    async def _publish(self, name: str, message: bytes) -> int | None:
        """How many processes heard it; None while Redis is away."""
        redis, channel = self._link.redis, self._link.channel(name)
        return await self._link.call(lambda: redis.publish(channel, message), None, SLOW_TIMEOUT)

    def _heard_record(self, data: bytes) -> None:
        origin, *records = data.split(b"\n")
        if origin.decode(errors="replace") != self._origin and self._feed.subscribers:
            for record in records:
                self._feed.deliver(record)

    async def _announce(self) -> None:
        while True:
            if self._feed.subscribers:
                self._link.publish(WATCH, self._origin.encode())
            await asyncio.sleep(WATCH_SECONDS)


def _ask(data: bytes) -> dict[str, Any] | None:
    try:
        ask = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    fields = ("origin", "id", "kind", "args")
    return ask if isinstance(ask, dict) and all(f in ask for f in fields) else None


def _rounds(answer: bytes) -> dict[str, int]:
    try:
        found = orjson.loads(answer)
    except orjson.JSONDecodeError:
        return {}
    return {str(k): int(v) for k, v in found.items()} if isinstance(found, dict) else {}


def _newest_first(here: list[bytes], answers: list[bytes]) -> list[bytes]:
    """This process's snapshot and the others' in one list, newest first."""
    records = [orjson.loads(r) for r in here]
    for answer in answers:
        try:
            records.extend(r for r in orjson.loads(answer) if isinstance(r, dict))
        except (orjson.JSONDecodeError, TypeError):
            continue
    records.sort(key=lambda r: r.get("started_at") or 0, reverse=True)
    return [orjson.dumps(r) for r in records]
