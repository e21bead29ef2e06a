"""Small pure pieces of the relay: body patching, limits, prices, body capture, URLs."""

from __future__ import annotations

import json

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from octopus.errors import BadRequest, Forbidden, RateLimited
from octopus.pricing.cost import Price, cost_of
from octopus.protocols import WireFormat, get_codec
from octopus.records.bodies import BodyMode, BodyPolicy
from octopus.records.request import UsageRecord
from octopus.relay import cutter
from octopus.relay.body import apply_overrides, patch_top, read_head
from octopus.relay.cutter import EventCutter, has_usage, last_boundary, usage_slices
from octopus.relay.limits import InProcessLimiter
from octopus.relay.metering import TextMeter
from octopus.relay.ready import Delivery
from octopus.relay.streaming import _Metered
from octopus.routing.catalog import ApiKey
from octopus.upstream.providers import endpoint_url, models_url
from tests.fakes.doubles import FakeClock


def test_read_head_and_patch() -> None:
    body = b'{"model":"g","stream":true,"messages":[{"role":"user","content":"x"}],"stream_options":{"foo":1}}'
    head = read_head(body)
    assert (head.model, head.stream) == ("g", True)
    out = json.loads(
        patch_top(
            head.top, model="up", include_usage=True, overrides={"stream": b"false", "seed": b"7"}
        )
    )
    assert out == {
        "model": "up",
        "stream": True,
        "messages": [{"role": "user", "content": "x"}],
        "stream_options": {"foo": 1, "include_usage": True},
        "seed": 7,
    }
    assert json.loads(apply_overrides(b'{"a":1}', {"a.b": b"2"})) == {"a": 1, "a.b": 2}
    for bad in (b"{", b"[]", b'{"model": 3}', b'{"messages": []}', b'{"model":"m","stream":"yes"}'):
        with pytest.raises(BadRequest):
            read_head(bad)
    assert isinstance(read_head(b'{"contents":[]}', need_model=False).top["contents"], msgspec.Raw)


async def test_limiter_windows() -> None:
    clock = FakeClock()
    limiter = InProcessLimiter(clock, spent={3: 5.0})
    key = ApiKey(1, "k", max_rpm=2, max_tpm=100, max_concurrency=2)
    first = await limiter.acquire(key)
    second = await limiter.acquire(key)
    with pytest.raises(RateLimited) as caught:
        await limiter.acquire(key)
    assert "concurrent" in caught.value.message
    limiter.settle(first, 60, 0.0)
    limiter.settle(second, 60, 0.0)
    with pytest.raises(RateLimited) as caught:
        await limiter.acquire(key)
    assert caught.value.retry_after == 60
    clock.advance(30)
    with pytest.raises(RateLimited):
        await limiter.acquire(key)
    clock.advance(31)
    limiter.settle(await limiter.acquire(key), 120, 0.0)
    with pytest.raises(RateLimited) as caught:
        await limiter.acquire(ApiKey(1, "k", max_tpm=100))
    assert "tokens per minute" in caught.value.message
    with pytest.raises(Forbidden):
        await limiter.acquire(ApiKey(3, "b", max_cost=5.0))
    limiter.add_spent(4, 0.5)
    assert limiter.spent(4) == 0.5


async def test_budget_holds_the_worst_case_until_settled() -> None:
    limiter = InProcessLimiter(FakeClock(), spent={5: 0.25})
    key = ApiKey(5, "b", max_cost=1.0)
    first = await limiter.acquire(key, reserve=0.5)
    second = await limiter.acquire(key, reserve=0.5)  # only 0.25 is left: clipped
    assert (first.reserved, second.reserved) == (0.5, 0.25)
    with pytest.raises(Forbidden):
        await limiter.acquire(key, reserve=0.01)  # everything is spent or held
    limiter.settle(first, 10, 0.125)  # cheaper than feared: the rest of its hold comes back
    assert limiter.held(5) == 0.25
    third = await limiter.acquire(key, reserve=0.5)
    assert third.reserved == pytest.approx(0.375)
    limiter.settle(second, 10, 0.5)
    limiter.settle(third, 10, 0.375)
    assert limiter.spent(5) == pytest.approx(1.25)  # over by second's settled-minus-reserved
    assert limiter.held(5) == 0


def test_cost_excludes_cached_input_from_the_full_price() -> None:
    usage = UsageRecord(input=1_000_000, output=500_000, cache_read=200_000, cache_write=100_000)
    cost = cost_of(usage, Price(input=3, output=15, cache_read=0.3, cache_write=3.75))
    assert cost.input_cost == pytest.approx(0.7 * 3 + 0.2 * 0.3 + 0.1 * 3.75)
    assert cost.output_cost == pytest.approx(7.5)
    assert cost_of(usage, None).total == 0


def test_body_policy() -> None:
    image = b"data:image/png;base64," + b"A" * 4000
    body = b'{"x":"' + image + b'","y":"' + b"z" * 100 + b'"}'
    kept = BodyPolicy(BodyMode.ALL, max_bytes=100).keep(body, success=True)
    assert kept is not None
    assert b"[base64 image, 3000 bytes]" in kept
    assert kept.endswith(b"...[truncated]")
    assert BodyPolicy(BodyMode.ERRORS).keep(body, success=True) is None
    assert BodyPolicy(BodyMode.ERRORS).keep(b"{}", success=False) == b"{}"
    assert BodyPolicy().keep(body, success=False) is None


def test_urls_and_boundaries() -> None:
    assert (
        endpoint_url(WireFormat.OPENAI_CHAT, "https://api.openai.com/v1/", "m", stream=True)
        == "https://api.openai.com/v1/chat/completions"
    )
    assert (
        endpoint_url(WireFormat.ANTHROPIC, "https://x/v1", "m", stream=False)
        == "https://x/v1/messages"
    )
    assert (
        endpoint_url(WireFormat.OPENAI_RESPONSES, "https://x/v1", "m", stream=False)
        == "https://x/v1/responses"
    )
    assert (
        endpoint_url(WireFormat.GEMINI, "https://g/v1beta", "gm", stream=True)
        == "https://g/v1beta/models/gm:streamGenerateContent?alt=sse"
    )
    assert (
        endpoint_url(WireFormat.GEMINI, "https://g/v1beta", "gm", stream=False)
        == "https://g/v1beta/models/gm:generateContent"
    )
    assert (
        endpoint_url(WireFormat.OPENAI_CHAT, "https://p/custom/path##", "m", stream=False)
        == "https://p/custom/path"
    )
    assert models_url("https://x/v1##") == "https://x/v1/models"
    assert last_boundary(b"data: a\n\ndata: b") == 9
    assert last_boundary(b"data: a\r\n\r\nda") == 11
    assert last_boundary(b"data: a\n") == 0


def test_usage_slices_are_the_whole_events_that_carry_usage() -> None:
    text = b'data: {"a":1,"usage":null}\n\ndata: {"b":2}\n\n'
    usage = b'data: {"choices":[],"usage":{"prompt_tokens":3}}\n\n'
    gemini = b'data: {"usageMetadata":{"promptTokenCount":4},"x":{"usage":1}}\n\n'
    assert usage_slices(text) == []
    assert usage_slices(text + usage + text) == [usage]
    assert usage_slices(usage + gemini + b"data: [DONE]") == [usage, gemini]  # one slice each
    assert usage_slices(b'data: {"usage":{"x":1}}') == [b'data: {"usage":{"x":1}}']  # unfinished
    crlf = text.replace(b"\n", b"\r\n") + usage.replace(b"\n", b"\r\n")
    assert usage_slices(crlf) == [crlf]  # CR framing: parsed whole, as before
    spaced = b'data: {"a":1,"usage": null}\n\n'
    many = (text + spaced) * 300  # a burst of OpenAI chunks, each with its placeholder
    assert usage_slices(many) == []
    assert not has_usage(many)
    both = b'data: {"usage":null,"later":{"usage":{"x":1}}}\n\n'  # a placeholder, then real
    assert usage_slices(many + both + many + usage) == [both, usage]
    assert has_usage(b'"usage" : null')  # not the placeholders OpenAI writes: parsed


def test_cutter_parses_only_the_usage_events_of_a_region() -> None:
    cutter = EventCutter(1024)
    usage = b'data: {"usage":{"prompt_tokens":3}}\n\n'
    region = cutter.push(b"data: a\n\n" * 50 + usage + b"data: b\n\ndata: [DO")
    assert region == b"data: a\n\n" * 50 + usage + b"data: b\n\n"
    assert [e.data for e in cutter.usage_events(region)] == [b'{"usage":{"prompt_tokens":3}}']
    assert cutter.push(b"NE]\n\n") == b"data: [DONE]\n\n"
    assert cutter.push(b"data: c\n\n") == b"data: c\n\n"  # nothing held: handed back as is


def test_a_delivery_keeps_exactly_its_first_capture_bytes() -> None:
    out = Delivery(capture=10)
    for piece in (
        b"abcd",
        b"efgh",
        b"ijkl",
        b"mnop",
    ):  # the third runs over, the fourth is not kept
        out.sent(piece)
    assert out.kept == b"abcdefghij"
    assert out.pieces == [b"abcd", b"efgh", b"ijkl"]  # references, not a copy per write
    exact = Delivery(capture=8)
    exact.sent(b"abcd")
    exact.sent(b"efgh")
    exact.sent(b"ijkl")
    assert exact.kept == b"abcdefgh"
    assert Delivery(capture=5).kept is None  # nothing written
    assert Delivery(capture=0, pieces=[]).kept is None
    assert Delivery(body=b"{}", capture=5).kept == b"{}"  # a whole body wins


def _chunk(text: str, usage: str = "null") -> bytes:
    payload = {"id": "c", "choices": [{"index": 0, "delta": {"content": text}}]}
    return b"data: " + json.dumps(payload).encode()[:-1] + f', "usage": {usage}}}\n\n'.encode()


def test_passthrough_reads_are_metered_as_their_events_count() -> None:
    codec = get_codec(WireFormat.OPENAI_CHAT)
    metered = _Metered(1 << 20, codec.usage_tap(), TextMeter(60, 0, 8), codec.stream_decoder())
    reference = TextMeter(60, 0, 8)
    usage = '{"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12}'
    reads = [
        *(_chunk("word " * n) for n in range(12)),  # one single-line event per read (the usual)
        _chunk("a") + _chunk("b") + b": keep-alive\n\n",  # several per read
        b"data: one\r\n\r\n",  # CR line ends
        _chunk("x" * 300),
        _chunk("", usage),  # usage in a one-event read reaches the tap
        b'event: content_block_delta\ndata: {"delta": {"text": "two lines"}}\n\n',
        b"event: a\n\n",  # a name alone
        b"\ndata: after an empty line\n\n",
        b"event: x\ndata: 1\ndata: 2\n\n",  # three lines: the general path
        b"data: a\n\n\n",
    ]
    for read in reads:
        assert metered.cut(read) == read
        reference.feed_wire(read)
    assert metered.meter.size == reference.size > 0
    assert metered.tap.usage is not None
    assert (metered.tap.usage.input_tokens, metered.tap.usage.output_tokens) == (3, 9)
    assert metered.cut(b"data: held") == b""  # an unfinished event waits, whatever its shape
    assert metered.cut(b" back\n\n") == b"data: held back\n\n"


_PIECES = st.sampled_from(
    [
        b'"usage":null',
        b'"usage": null',
        b'"usage":{"x":1}',
        b'"usageMetadata":{}',
        b'"usage"',
        b'"usage":nul',
        b'"usage" : null',
        b"usage",
        b'"',
        b"data: {",
        b"}\n\n",
        b"x" * 7,
    ]
)


@settings(max_examples=400)
@given(st.lists(_PIECES | st.binary(max_size=8), max_size=40))
def test_has_usage_in_c_and_in_python_agree_with_the_pattern(pieces: list[bytes]) -> None:
    """The C Horspool search, the Python find-and-counts and the regular expression that
    usage_slices walks with: a `"usage` that is not a null placeholder, whatever surrounds it."""
    data = b"".join(pieces)
    expected = cutter._REAL_USAGE.search(data) is not None
    assert has_usage(data) == expected
    assert cutter._has_usage(data) == expected
    assert bool(usage_slices(data)) == expected
