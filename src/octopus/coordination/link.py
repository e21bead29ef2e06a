"""The one Redis connection of a process: bounded calls, pub/sub dispatch, and the fallback mode.

Every command goes through `call` with a timeout (50 ms on the request path); the request-path
scripts go through `send` and `reply` instead: sent at once, so that the limiter's and the
routing's scripts of one request leave in one write, and bounded by the lean connection's
deadline sweep rather than a timer each. A failure switches
the process to `local-fallback` for `RETRY_SECONDS`: calls return their local default at once
instead of waiting on a sick Redis. The listener task keeps the pub/sub subscription; once Redis
answers a ping within the request path's bound again the mode returns to `redis` and every resync
hook runs (state re-read), no restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, TypeVar, cast

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError

from octopus.coordination.resp import Arg, LeanRedis, Script, bulk, lean_client

log = logging.getLogger("octopus.shared")
T = TypeVar("T")
Mode = Literal["redis", "local-fallback"]
FAST_TIMEOUT = 0.05  # request-path calls: what a slow Redis may add to one request
SLOW_TIMEOUT = 1.0  # background calls (publish, leases, resync)
RETRY_SECONDS = 1.0
Handler = Callable[[bytes], None]
Resync = Callable[[], Awaitable[None]]
ScriptCall = Callable[[Sequence[Arg], Sequence[Arg]], Awaitable[Any]]


class Call:
    """A script sent by `RedisLink.send`, its reply read by `RedisLink.reply`."""

    __slots__ = ("args", "deadline", "future", "keys", "limit", "script")

    def __init__(
        self,
        script: ScriptCall,
        keys: Sequence[Arg],
        args: Sequence[Arg],
        limit: float,
        future: asyncio.Future[Any] | None,
    ) -> None:
        self.script, self.keys, self.args, self.limit = script, keys, args, limit
        self.future = future  # None: not sent (Redis away, no connection yet, not the lean client)
        self.deadline = time.monotonic() + limit

    def drop(self) -> None:
        """Nobody will read the reply (the request was refused or cancelled)."""
        if self.future is not None:
            self.future.cancel()

    def again(self) -> Awaitable[Any]:
        return self.script(self.keys, self.args)

    def whole(self) -> Awaitable[Any]:
        """EVAL after a NOSCRIPT reply (only a sent call, so a lean `Script`, gets one)."""
        return cast(Script, self.script).whole(self.keys, self.args)


class RedisLink:
    def __init__(self, url: str, prefix: str) -> None:
        self.redis = Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=2.0)
        self._listener_client = Redis.from_url(url, socket_connect_timeout=1.0)
        self.fast: LeanRedis | None = lean_client(url)  # request-path scripts, pipelined
        self.prefix = prefix
        self.mode: Mode = "redis"
        self._down_until = 0.0
        self._handlers: dict[str, list[Handler]] = {}
        self._resyncs: list[Resync] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._listener: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()

    def key(self, *parts: object) -> str:
        """`{prefix}a:b`: one hash tag, so multi-key scripts run on Redis Cluster too."""
        return "{" + self.prefix + "}" + ":".join(str(p) for p in parts)

    def script(self, body: str) -> ScriptCall:
        """`await script(keys, args)`: on the lean client when the URL allows, else redis-py."""
        if self.fast is not None:
            return self.fast.script(body)
        slow = self.redis.register_script(body)
        return lambda keys, args: slow(keys=cast(Any, keys), args=args)  # never a Bulk here

    def send(
        self,
        script: ScriptCall,
        keys: Sequence[Arg],
        args: Sequence[Arg],
        limit: float = FAST_TIMEOUT,
    ) -> Call:
        """`script` sent now, with this iteration's other commands; `await reply(call, default)`."""
        future = None
        if self.mode == "redis" and self.fast is not None and isinstance(script, Script):
            future = self.fast.send(script.evalsha(keys, args), limit)
        return Call(script, keys, args, limit, future)

    async def reply(self, call: Call, default: T) -> Any:
        """The reply of `call` within its limit; `default` while Redis is away or too slow."""
        if call.future is None:  # not sent: the general path (connects, or answers the default)
            return await self.call(call.again, default, call.limit)
        try:
            return await call.future
        except NoScriptError:  # Redis restarted or flushed its scripts: EVAL, in the time left
            left = max(0.0, call.deadline - time.monotonic())
            return await self.call(call.whole, default, left)
        except (RedisError, OSError, TimeoutError) as exc:
            self.failed(exc)
            return default

    def bulk(self, arg: Arg) -> Arg:
        """`arg` encoded once for the lean client (sent as it is by every call); as it is for
        redis-py, which encodes it itself."""
        return arg if self.fast is None else bulk(arg)

    def channel(self, name: str) -> str:
        return self.prefix + name

    @property
    def up(self) -> bool:
        return self.mode == "redis"

    async def call(
        self, make: Callable[[], Awaitable[T]], default: T, limit: float = FAST_TIMEOUT
    ) -> T:
        """`make()` within `limit` seconds; `default` while Redis is away or too slow."""
        if self.mode != "redis" and time.monotonic() < self._down_until:
            return default
        try:  # a deadline on this task: wait_for would start a task per call (3.11)
            async with asyncio.timeout(limit):
                return await make()
        except (RedisError, OSError, TimeoutError) as exc:
            self.failed(exc)
            return default

    def failed(self, exc: BaseException) -> None:
        self._down_until = time.monotonic() + RETRY_SECONDS
        if self.mode == "redis":
            self.mode = "local-fallback"
            log.warning("redis unavailable (%s); each process uses its own state", _why(exc))

    def spawn(self, coro: Awaitable[Any]) -> None:
        """Fire and forget, kept referenced until done (drained at shutdown)."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def publish(self, name: str, data: bytes) -> None:
        channel = self.channel(name)
        self.spawn(self.call(lambda: self.redis.publish(channel, data), 0, SLOW_TIMEOUT))

    def subscribe(self, name: str, handler: Handler) -> None:
        """Before `start`: `handler(data)` for every message on `name`, from every instance."""
        self._handlers.setdefault(self.channel(name), []).append(handler)

    def on_resync(self, hook: Resync) -> None:
        """Run after (re)subscribing: pick up what changed while messages could not arrive."""
        self._resyncs.append(hook)

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="redis-listener")
        try:  # a short wait so that the first requests already see shared state
            await asyncio.wait_for(self.subscribed.wait(), 2.0)
        except TimeoutError:
            log.warning("redis not reachable at start; serving with local state until it is")

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.redis.aclose()
        await self._listener_client.aclose()
        if self.fast is not None:
            await self.fast.close()

    async def _listen(self) -> None:
        while True:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, TimeoutError) as exc:
                self.subscribed.clear()
                self.failed(exc)
            except Exception:  # a handler bug must not end the subscription
                log.exception("redis listener failed")
            await asyncio.sleep(RETRY_SECONDS)

    async def _session(self) -> None:
        async with self._listener_client.pubsub() as pubsub:
            await pubsub.subscribe(*self._handlers)
            await self._probe()
            self.subscribed.set()
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is not None:
                    self._dispatch(message)
                elif self.mode != "redis" and time.monotonic() >= self._down_until:
                    await self._probe()

    async def _probe(self) -> None:
        """Back to `redis` only when a ping answers within the request path's bound: a Redis
        that is late but up would otherwise flip the mode (and /readyz) every second."""
        await asyncio.wait_for(self.redis.ping(), SLOW_TIMEOUT)  # connected; raises when down
        try:
            async with asyncio.timeout(FAST_TIMEOUT):
                await self.redis.ping()
        except (RedisError, OSError, TimeoutError) as exc:
            self.failed(exc)
            return
        was_down = self.mode != "redis"
        self.mode = "redis"
        for hook in self._resyncs:
            await hook()
        if was_down:
            log.warning("redis reachable again; shared state in use")

    def _dispatch(self, message: dict[str, Any]) -> None:
        channel = message.get("channel")
        name = channel.decode() if isinstance(channel, bytes) else str(channel)
        data = message.get("data")
        for handler in self._handlers.get(name, []):
            try:
                handler(data if isinstance(data, bytes) else str(data).encode())
            except Exception:
                log.exception("handler for %s failed", name)


def _why(exc: BaseException) -> str:
    return type(exc).__name__ if not str(exc) else str(exc).splitlines()[0][:200]
