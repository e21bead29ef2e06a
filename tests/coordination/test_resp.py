"""The lean RESP2 client against the real Redis: pipelining, errors, lost connections, parsing."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from octopus.coordination.resp import LeanRedis, _Connection, encode, lean_client
from tests.conftest import REDIS_URL
from tests.coordination.wire import record_writes


@pytest.fixture
async def lean() -> AsyncIterator[LeanRedis]:
    client = lean_client(REDIS_URL)
    assert client is not None
    yield client
    await client.close()


def _key() -> str:
    return f"octotest:resp:{secrets.token_hex(4)}"


async def test_concurrent_commands_go_in_one_write_and_get_their_own_replies(
    lean: LeanRedis, redis: Redis
) -> None:
    key = _key()
    await lean.execute("PING")  # connected: the next batch is measured alone
    writes = record_writes(lean)
    counts = await asyncio.gather(*(lean.execute("INCR", key) for _ in range(200)))
    echoes = await asyncio.gather(*(lean.execute("ECHO", f"n{i}") for i in range(50)))
    assert counts == list(range(1, 201)), "in the order sent, each its own reply"
    assert echoes == [f"n{i}".encode() for i in range(50)]
    assert len(writes) == 2, "each batch issued in one loop iteration went in one write"
    await redis.delete(key)


async def test_a_script_error_reaches_only_its_caller(lean: LeanRedis) -> None:
    good = lean.script("return {ARGV[1], tonumber(ARGV[2]) + 1, false}")
    bad = lean.script("return redis.error_reply('boom')")
    results = await asyncio.gather(
        good([], ["a", 1]), bad([], []), good([], ["b", 2.5]), return_exceptions=True
    )
    assert results[0] == [b"a", 2, None]
    assert isinstance(results[1], ResponseError)
    assert "boom" in str(results[1])
    assert results[2] == [b"b", 3, None]  # Lua numbers come back as integers


async def test_a_flushed_script_is_sent_again_whole(lean: LeanRedis, redis: Redis) -> None:
    script = lean.script(f"return '{_key()}'")  # a body Redis has never seen: NOSCRIPT first
    assert (await script([], [])).startswith(b"octotest:resp:")
    assert await redis.script_exists(script.sha) == [True]


async def test_a_killed_connection_fails_pending_calls_and_the_next_call_reconnects(
    lean: LeanRedis, redis: Redis
) -> None:
    key = _key()
    own_id = await lean.execute("CLIENT", "ID")
    blocked = asyncio.ensure_future(lean.execute("BLPOP", key, 5))
    queued = asyncio.ensure_future(lean.execute("PING"))  # behind the blocked one
    await asyncio.sleep(0.1)
    assert await redis.client_kill_filter(_id=str(own_id)) == 1
    for call in (blocked, queued):
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(call, 2.0)
    assert await lean.execute("PING") == b"PONG"
    assert await lean.execute("CLIENT", "ID") != own_id


async def test_a_call_whose_caller_gave_up_does_not_shift_the_replies(lean: LeanRedis) -> None:
    key = _key()
    slow = asyncio.ensure_future(lean.execute("BLPOP", key, 0.2))
    after = asyncio.ensure_future(lean.execute("ECHO", "mine"))
    await asyncio.sleep(0.05)
    slow.cancel()
    assert await after == b"mine"
    assert await lean.execute("ECHO", "next") == b"next"


class _Transport(asyncio.Transport):
    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass

    def abort(self) -> None:
        pass


REPLIES: list[tuple[bytes, Any]] = [
    (b"$5\r\nhe\r\nl\r\n", b"he\r\nl"),
    (b":-42\r\n", -42),
    (b"$-1\r\n", None),
    (b"*-1\r\n", None),
    (b"+OK\r\n", b"OK"),
    (b"*3\r\n:1\r\n*2\r\n$0\r\n\r\n$-1\r\n$3\r\nabc\r\n", [1, [b"", None], b"abc"]),
    (b"*0\r\n", []),
]


async def test_replies_split_at_every_byte_parse_the_same() -> None:
    stream = b"".join(raw for raw, _ in REPLIES) + b"-ERR bad thing\r\n"
    for cut in range(1, len(stream)):
        for pieces in ([stream[:cut], stream[cut:]], [stream[i : i + 1] for i in range(cut)]):
            conn = _Connection()
            conn.connection_made(_Transport())
            futures = [conn.send(encode(["X"])) for _ in range(len(REPLIES) + 1)]
            for piece in pieces:
                conn.data_received(piece)
            if pieces[-1] != stream[cut:]:
                conn.data_received(stream[cut:])
            assert [f.result() for f in futures[:-1]] == [want for _, want in REPLIES]
            with pytest.raises(ResponseError, match="bad thing"):
                futures[-1].result()


def test_urls_the_lean_client_takes_and_leaves_to_redis_py() -> None:
    for url in (
        "redis://127.0.0.1:6379/0",
        "redis://:pw@host/2",
        "redis://user:pw@host:7000",
        "unix:///tmp/r.sock?db=1",
    ):
        assert lean_client(url) is not None, url
    for url in ("rediss://host:6379/0", "redis://host/0?protocol=3", "unix:///tmp/r.sock?x=1"):
        assert lean_client(url) is None, url


async def test_a_sent_call_fails_at_its_own_deadline_and_the_replies_stay_in_step(
    lean: LeanRedis,
) -> None:
    await lean.execute("PING")  # connected: `send` takes the ready connection
    loop = asyncio.get_running_loop()
    began = loop.time()
    blocker = lean.send(encode(["BLPOP", _key(), "0.3"]), 1.0)  # arms the sweep at 1 s
    quick = lean.send(encode(["ECHO", "late"]), 0.05)  # behind it, with an earlier deadline
    assert blocker is not None
    assert quick is not None
    with pytest.raises(TimeoutError):
        await quick
    assert loop.time() - began < 0.2, "the sweep moved to the earlier deadline"
    assert await blocker is None  # answered at 0.3 s; the late ECHO's reply is skipped
    assert await lean.execute("ECHO", "next") == b"next"


async def test_send_needs_a_ready_connection() -> None:
    client = lean_client(REDIS_URL)
    assert client is not None
    assert client.send(encode(["PING"]), 1.0) is None, "no connection yet: the caller connects"
    assert await client.execute("PING") == b"PONG"
    sent = client.send(encode(["PING"]), 1.0)
    assert sent is not None
    assert await sent == b"PONG"
    await client.close()
