"""Hostile upstream streams: SSE handling is linear in the bytes received and every buffer is capped.

An upstream that trickles one huge event a byte at a time must cost O(n), not O(n²); one that
never ends an event (a runaway `data:` line, comment lines without a blank line) ends the
attempt with an error in the client's protocol once `max_sse_event_size` is reached; and a
passthrough stream of 10,000 events reaches the client byte-identical with memory that does not
grow with the stream.
"""

from __future__ import annotations

import hashlib
import time
import tracemalloc
from collections.abc import Callable, Iterator

import httpx
import orjson
import pytest

from octopus.protocols.sse import SseEventTooLarge, SseParser
from octopus.relay.cutter import EventCutter
from octopus.relay.exchange import ExchangeLimits
from octopus.relay.service import RelayLimits
from tests.fakes.gateway import Gateway, World, group, serve_relay
from tests.fakes.hostile import HostileUpstream, serve_hostile

CAP = 64 * 1024
LIMITS = RelayLimits(exchange=ExchangeLimits(connect_timeout=2.0, max_sse_event_size=CAP))


@pytest.fixture
def world() -> World:
    return World()


def _best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of a few runs: a stall from other work on the machine only adds time."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def _trickle_parser(size: int) -> None:
    parser = SseParser(max_event_size=size * 2)
    event = b"data: " + b"x" * size + b"\n\n"
    found = [e for i in range(len(event)) for e in parser.feed(event[i : i + 1])]
    assert [len(e.data) for e in found] == [size]


def _trickle_cutter(size: int) -> None:
    cutter = EventCutter(size * 2)
    event = b"data: " + b"x" * size + b"\n\n"
    out = b"".join(cutter.push(event[i : i + 1]) for i in range(len(event)))
    assert out == event


@pytest.mark.parametrize("trickle", [_trickle_parser, _trickle_cutter], ids=["parser", "cutter"])
def test_one_byte_chunks_cost_linear_time(trickle: Callable[[int], None]) -> None:
    """10× the bytes in 1-byte chunks takes about 10× the time (quadratic would be about 100×)."""
    small = _best_of(3, lambda: trickle(20_000))
    large = _best_of(3, lambda: trickle(200_000))
    assert large / small < 35, f"{small:.4f} s for 20 KB, {large:.4f} s for 200 KB"


def test_parser_caps_an_event_that_never_ends() -> None:
    parser = SseParser(max_event_size=CAP)
    parser.feed(b"data: " + b"x" * (CAP // 2))  # a partial line counts
    with pytest.raises(SseEventTooLarge):
        parser.feed(b"x" * CAP)


def test_parser_caps_many_data_lines_of_one_event() -> None:
    parser = SseParser(max_event_size=CAP)
    lines = (b"data: " + b"y" * 100 + b"\n") * (CAP // 100 - 10)
    parser.feed(lines)  # under the cap: held, no event yet
    with pytest.raises(SseEventTooLarge):
        parser.feed(lines[: 100 * 20])


def test_cutter_caps_comment_lines_without_a_blank_line() -> None:
    cutter = EventCutter(CAP)
    lines = b": ping ..\n" * (CAP // 10 - 10)
    assert cutter.push(lines) == b""  # no blank line yet: held, under the cap
    with pytest.raises(SseEventTooLarge):
        cutter.push(b": ping ..\n" * 20)


def test_cutter_lets_comment_only_events_through() -> None:
    """Keep-alive comments that end with a blank line are whole events: nothing is held."""
    cutter = EventCutter(CAP)
    for _ in range(CAP):
        assert cutter.push(b": keep-alive\n\n") == b": keep-alive\n\n"


def _chunk(text: str, pad: int = 0) -> bytes:
    payload = {
        "id": "chatcmpl-h",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "up-model",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
        "pad": "p" * pad,
    }
    return b"data: " + orjson.dumps(payload) + b"\n\n"


USAGE = (
    b'data: {"id":"chatcmpl-h","object":"chat.completion.chunk","created":1,"model":"up-model",'
    b'"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":10000,"total_tokens":10011}}'
    b"\n\n"
)


def _ten_thousand() -> Iterator[bytes]:
    yield b'data: {"id":"chatcmpl-h","choices":[{"index":0,"delta":{"role":"assistant"}}]}\n\n'
    for index in range(10_000):
        yield _chunk(f"tok{index} ", pad=500)
    yield USAGE
    yield b"data: [DONE]\n\n"


def _stream_request(key: str) -> tuple[dict[str, str], dict[str, object]]:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    return {"authorization": f"Bearer {key}"}, body


async def test_ten_thousand_events_pass_byte_identical_in_bounded_memory(world: World) -> None:
    async with serve_hostile(_ten_thousand) as upstream:
        world.channels.append(upstream.channel())
        world.groups.append(group("m", world.channels))
        headers, body = _stream_request(world.add_key())
        async with serve_relay(world, limits=LIMITS) as gw, httpx.AsyncClient() as http:
            url = gw.url + "/v1/chat/completions"
            await http.post(url, headers=headers, json=body)  # warm pools and caches first
            tracemalloc.start()
            try:
                baseline = tracemalloc.get_traced_memory()[0]
                received, size = hashlib.sha256(), 0
                async with http.stream("POST", url, headers=headers, json=body) as resp:
                    async for chunk in resp.aiter_raw():
                        received.update(chunk)
                        size += len(chunk)
                peak = tracemalloc.get_traced_memory()[1] - baseline
            finally:
                tracemalloc.stop()
        assert resp.status_code == 200
        assert upstream.sent.finished
        assert (size, received.hexdigest()) == (
            upstream.sent.size,
            upstream.sent.digest.hexdigest(),
        )
        assert size > 5_000_000
        # the stream is > 5 MB; what the relay holds at once is a few events, not the stream
        assert peak < 1_500_000, f"peak {peak:,} bytes of Python allocations during the stream"
        record = gw.sink.records[-1]
        assert record.status == "success"
        assert (record.usage.input, record.usage.output) == (11, 10_000)


async def _ask(
    world: World, chunks: Callable[[], Iterator[bytes]]
) -> tuple[httpx.Response, Gateway, HostileUpstream]:
    """One OpenAI streaming call through the relay to a hostile upstream (one-member group)."""
    async with serve_hostile(chunks) as upstream:
        world.channels.append(upstream.channel())
        world.groups.append(group("m", world.channels))
        headers, body = _stream_request(world.add_key())
        async with serve_relay(world, limits=LIMITS) as gw, httpx.AsyncClient() as http:
            resp = await http.post(gw.url + "/v1/chat/completions", headers=headers, json=body)
    return resp, gw, upstream


def _then(tail: Iterator[bytes]) -> Callable[[], Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        yield _chunk("hello ")
        yield b""  # the first event is read alone: the stream commits before the flood
        yield from tail

    return chunks


def _comment_lines() -> Iterator[bytes]:
    while True:
        yield b": still here, no blank line\n" * 100


def _runaway_event() -> Iterator[bytes]:
    yield b"data: "
    while True:
        yield b"x" * 4096


@pytest.mark.parametrize("tail", [_comment_lines, _runaway_event], ids=["comments", "runaway"])
async def test_endless_event_after_commit_ends_with_an_openai_error(
    world: World, tail: Callable[[], Iterator[bytes]]
) -> None:
    resp, gw, upstream = await _ask(world, _then(tail()))
    assert resp.status_code == 200, resp.text
    assert resp.content.startswith(_chunk("hello "))
    last = resp.content.rstrip().rsplit(b"\n\n", 1)[-1]
    error = orjson.loads(last.removeprefix(b"data: "))["error"]
    assert f"exceeded {CAP} bytes" in error["message"]
    assert len(resp.content) < 3 * CAP  # nothing past the cap reached the client
    assert not upstream.sent.finished
    record = gw.sink.records[-1]
    assert record.status == "failed"
    assert "exceeded" in record.error


async def test_endless_first_event_fails_the_attempt_before_commit(world: World) -> None:
    resp, gw, _ = await _ask(world, _runaway_event)
    assert resp.status_code == 502
    assert "exceeded" in resp.json()["error"]["message"]
    assert gw.sink.records[-1].status == "failed"
