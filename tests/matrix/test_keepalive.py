"""Keep-alives: while a committed stream's upstream is silent, every client keeps receiving its
format's keep-alive (Anthropic `ping`, SSE comments elsewhere), on converted and passthrough
paths alike, and its SDK still reads the stream intact.

The interval is shrunk here (it is an ExchangeLimits field); the shipped default is checked too.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from octopus.protocols import WireFormat, get_codec
from octopus.relay.exchange import ExchangeLimits
from octopus.relay.service import RelayLimits
from tests.fakes import replies_stream
from tests.fakes.replies import Reply
from tests.fakes.upstream import Fault
from tests.matrix import turns as t
from tests.matrix.bench import CLIENTS, UPSTREAM_MODEL, Bench, Cell, open_bench

INTERVAL = 0.05
SILENCE = 0.4  # eight intervals: one keep-alive is due even if the machine stalls for most
TEXT = Reply(pieces=("alpha ", "beta ", "gamma"))
PAIRS = [(client, kind) for client in CLIENTS for kind in WireFormat]


@pytest.fixture(scope="module")
async def bench() -> AsyncIterator[Bench]:
    limits = RelayLimits(exchange=ExchangeLimits(connect_timeout=2.0, keepalive_interval=INTERVAL))
    async with open_bench(limits) as opened:
        yield opened


def test_default_interval_is_at_most_fifteen_seconds() -> None:
    assert 0 < ExchangeLimits().keepalive_interval <= 15


def _silent_after_first_piece(kind: WireFormat) -> Fault:
    events = replies_stream.events(kind, UPSTREAM_MODEL, TEXT)
    first = next(i for i, event in enumerate(events) if b'"alpha ' in event) + 1
    return Fault(reply=TEXT, stall_after=first, stall=SILENCE)


def _raw_request(cell: Cell) -> tuple[str, dict[str, Any]]:
    user = {"role": "user", "content": "hi"}
    if cell.client == "chat":
        return "/v1/chat/completions", {"model": cell.model, "messages": [user], "stream": True}
    if cell.client == "responses":
        return "/v1/responses", {"model": cell.model, "input": "hi", "stream": True}
    if cell.client == "anthropic":
        body = {"model": cell.model, "max_tokens": 64, "messages": [user], "stream": True}
        return "/v1/messages", body
    path = f"/v1beta/models/{cell.model}:streamGenerateContent?alt=sse"
    return path, {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


def _keepalives(client: str, data: bytes) -> list[int]:
    """Where the keep-alives are in the client stream."""
    if client == "gemini":  # its keep-alive is a blank line: newlines beyond an event's two
        runs = re.finditer(rb"\n{3,}", data)
        return [m.start() + 2 + i for m in runs for i in range(len(m.group()) - 2)]
    keepalive = get_codec(CLIENTS[client]).keepalive()
    return [m.start() for m in re.finditer(re.escape(keepalive), data)]


async def _raw_stream(cell: Cell) -> bytes:
    """The client stream's bytes exactly as they came."""
    path, body = _raw_request(cell)
    cell.bench.fake.script(cell.tag, _silent_after_first_piece(cell.kind))
    headers = {"Authorization": f"Bearer {cell.bench.key}"}
    data = b""
    async with (
        httpx.AsyncClient(timeout=20) as http,
        http.stream("POST", cell.bench.gateway.url + path, json=body, headers=headers) as resp,
    ):
        assert resp.status_code == 200
        async for chunk in resp.aiter_raw():
            data += chunk
    return data


@pytest.mark.parametrize(("client", "kind"), PAIRS, ids=[f"{c}-{k.value}" for c, k in PAIRS])
async def test_keepalives_while_the_upstream_is_silent(
    bench: Bench, client: str, kind: WireFormat
) -> None:
    data = await _raw_stream(bench.cell(client, kind))
    at = _keepalives(client, data)
    # they fill the silence: after the first piece, before the rest, never inside an event
    assert [o for o in at if data.index(b"alpha ") < o < data.index(b"beta ")], data
    if client != "gemini":  # gemini's keep-alive is itself a blank line
        assert all(data[:o].endswith(b"\n\n") for o in at), data
    # the client's own SDK reads through the keep-alives to the whole answer
    sdk = bench.cell(client, kind)
    answer = await sdk.run(t.Turn(stream=True), _silent_after_first_piece(kind))
    assert answer.text == "alpha beta gamma"
