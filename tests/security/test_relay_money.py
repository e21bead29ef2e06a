"""Money against the real process: concurrent spending stays within the budget (plus at most
one request's settled-minus-reserved difference), and every cut-short stream is billed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.fakes.payloads import USAGE_OUT
from tests.fakes.upstream import FakeUpstream, Fault
from tests.harness import Process
from tests.security import relay_setup as s
from tests.security.conftest import no_traceback

PER_REQUEST = 0.30  # USD: the fake's 7 output tokens at the price below, nothing for input
OUTPUT_PRICE = PER_REQUEST / USAGE_OUT * 1_000_000
BUDGET = 0.75
INPUT_PRICE = 1000.0  # USD per million input tokens, for the cut-short streams


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    upstream = await FakeUpstream().start()
    yield upstream
    await upstream.stop()


def _priced_group(admin: httpx.Client, fake: FakeUpstream) -> None:
    s.add_group(admin, "g", [s.add_channel(admin, fake, "c1")])
    s.set_price(admin, "m", input=0.0, output=OUTPUT_PRICE)


async def _ask(url: str, key: str, **extra: object) -> int:
    body = {"model": "g", "max_tokens": USAGE_OUT, "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(timeout=30) as http:
        reply = await http.post(
            url + "/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={**body, **extra},
        )
    return reply.status_code


async def test_twenty_concurrent_requests_cannot_overspend_a_budget(
    fake: FakeUpstream, gateway: Process
) -> None:
    fake.always["c1"] = Fault(delay=0.3)  # all twenty are in flight together
    with s.admin(gateway.url) as admin:
        _priced_group(admin, fake)
        key = s.add_key(admin, "budget", max_cost=BUDGET)
        statuses = await asyncio.gather(*(_ask(gateway.url, key) for _ in range(20)))
        answered = statuses.count(200)
        assert answered >= 2  # two whole worst cases fit in the budget
        assert set(statuses) <= {200, 403}
        rows = s.logs(admin, 20)
    spent = sum(float(r["cost"]) for r in rows if r["status"] == "success")
    # the third request was admitted with the 0.15 left: it may overshoot by its 0.30 - 0.15
    assert spent <= BUDGET + PER_REQUEST + 1e-9
    assert spent == pytest.approx(answered * PER_REQUEST)
    assert answered <= 3
    assert await _ask(gateway.url, key) == 403  # spent: nothing more is admitted
    no_traceback(gateway)


async def _read_then_hang_up(url: str, key: str, events: int) -> int:
    """Stream, read `events` SSE events, then close the connection; the events seen."""
    body = {"model": "g", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    seen = 0
    async with (
        httpx.AsyncClient(timeout=30) as http,
        http.stream(
            "POST",
            url + "/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json=body,
        ) as reply,
    ):
        assert reply.status_code == 200
        async for line in reply.aiter_lines():
            if line.startswith("data: {"):
                seen += 1
                if seen >= events:
                    break
    return seen


@pytest.mark.parametrize("cut_after", [1, 40, 140])
async def test_a_client_that_hangs_up_mid_stream_is_billed_for_what_it_got(
    fake: FakeUpstream, gateway: Process, cut_after: int
) -> None:
    pieces = [f"word{i:03d} " for i in range(150)]
    fake.always["c1"] = Fault(pieces=pieces, gap=0.01)
    with s.admin(gateway.url) as admin:
        s.add_group(admin, "g", [s.add_channel(admin, fake, "c1")])
        s.set_price(admin, "m", input=INPUT_PRICE, output=OUTPUT_PRICE)
        key = s.add_key(admin, "stream")
        assert await _read_then_hang_up(gateway.url, key, cut_after) == cut_after
        (row,) = s.logs(admin, 1)
    assert row["status"] == "canceled"
    usage_in, usage_out = int(row["input_tokens"]), int(row["output_tokens"])
    delivered_chars = len("".join(pieces[: cut_after - 1]))  # the first event carries the role
    assert usage_out >= delivered_chars // 4  # at least what reached the client
    assert usage_out <= len("".join(pieces)) // 4 + 2  # never more than the whole answer
    assert row["estimated"] is True
    assert usage_in > 0  # the prompt was sent upstream: it is billed however the stream ends
    cost = (usage_in * INPUT_PRICE + usage_out * OUTPUT_PRICE) / 1e6
    assert float(row["cost"]) == pytest.approx(cost)
    assert float(row["cost"]) > 0


async def test_an_upstream_that_drops_mid_stream_is_billed_and_estimated(
    fake: FakeUpstream, gateway: Process
) -> None:
    fake.always["c1"] = Fault(pieces=[f"w{i} " for i in range(100)], drop_after=60)
    with s.admin(gateway.url) as admin:
        _priced_group(admin, fake)
        key = s.add_key(admin, "drop")
        async with httpx.AsyncClient(timeout=30) as http:
            reply = await http.post(
                gateway.url + "/v1/chat/completions",
                headers={"Authorization": f"Bearer {key}"},
                json={"model": "g", "stream": True, "messages": [{"role": "user", "content": "x"}]},
            )
        assert reply.status_code == 200  # committed: the error comes in-band
        assert "error" in reply.text.rsplit("data: ", 2)[-2] or "error" in reply.text[-400:]
        (row,) = s.logs(admin, 1)
    assert row["status"] == "failed"
    assert row["estimated"] is True
    assert int(row["output_tokens"]) > 0
    assert float(row["cost"]) > 0
