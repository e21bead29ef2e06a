"""Long streams fold their deltas once: text, arguments and reasoning built from thousands of
small deltas are joined at the end, not re-copied on every delta (which was quadratic)."""

from __future__ import annotations

import time
from typing import Any

import msgspec

from octopus.protocols import WireFormat, get_codec
from octopus.protocols import canonical as c
from octopus.protocols import events as ev

PIECES = [f"t{i} " for i in range(5000)]
WHOLE = "".join(PIECES)


def _data(sse: Any) -> Any:
    return msgspec.json.decode(sse.data)


def test_the_accumulator_joins_text_arguments_and_reasoning() -> None:
    acc = ev.Accumulator()
    acc.feed(ev.MessageStart(id="m"))
    acc.feed(ev.BlockStart(0, c.Reasoning()))
    acc.feed(ev.BlockStart(1, c.Text("pre:")))
    acc.feed(ev.BlockStart(2, c.ToolCall("call_1", "f", "{")))
    for piece in PIECES:
        acc.feed(ev.ReasoningDelta(0, piece))
        acc.feed(ev.TextDelta(1, piece))
        acc.feed(ev.ArgumentsDelta(2, piece))
    acc.feed(ev.TextDelta(7, "no such block"))
    first = acc.result()
    reasoning, text, call = first.content
    assert reasoning == c.Reasoning(text=WHOLE)
    assert text == c.Text("pre:" + WHOLE)
    assert call == c.ToolCall("call_1", "f", "{" + WHOLE)
    assert acc.result().content == first.content  # asking again adds nothing twice


def test_a_restarted_block_starts_over() -> None:
    acc = ev.Accumulator()
    acc.feed(ev.BlockStart(0, c.Text("")))
    acc.feed(ev.TextDelta(0, "old"))
    acc.feed(ev.BlockStart(0, c.Text("")))
    acc.feed(ev.TextDelta(0, "new"))
    assert acc.result().content == [c.Text("new")]


def test_folding_grows_linearly_with_the_deltas() -> None:
    """Eight times the deltas must cost far less than the 64 times a quadratic fold would
    (the margin is wide: a ratio under 30 on a noisy machine, about 8 when linear)."""

    def fold(count: int) -> float:
        best = float("inf")
        for _ in range(3):
            acc = ev.Accumulator()
            acc.feed(ev.BlockStart(0, c.Text("")))
            deltas: list[ev.Event] = [ev.TextDelta(0, "tok5 ")] * count
            start = time.perf_counter()
            acc.feed_all(deltas)
            acc.result()
            best = min(best, time.perf_counter() - start)
        return best

    assert fold(160_000) / fold(20_000) < 30


def test_responses_done_events_carry_every_delta() -> None:
    enc = get_codec(WireFormat.OPENAI_RESPONSES).stream_encoder("m")
    enc.feed(ev.MessageStart(id="resp_1"))
    enc.feed(ev.BlockStart(0, c.Text("")))
    enc.feed(ev.BlockStart(1, c.ToolCall("call_1", "f", "")))
    for piece in PIECES:
        enc.feed(ev.TextDelta(0, piece))
        enc.feed(ev.ArgumentsDelta(1, piece))
    done = [_data(s) for s in enc.feed(ev.BlockStop(0)) + enc.feed(ev.BlockStop(1))]
    by_type = {d["type"]: d for d in done}
    assert by_type["response.output_text.done"]["text"] == WHOLE
    assert by_type["response.content_part.done"]["part"]["text"] == WHOLE
    assert by_type["response.function_call_arguments.done"]["arguments"] == WHOLE
    items = [d["item"] for d in done if d["type"] == "response.output_item.done"]
    assert [item.get("content", [{}])[0].get("text") for item in items] == [WHOLE, None]
    assert items[1]["arguments"] == WHOLE


def test_responses_reasoning_summary_carries_every_delta() -> None:
    enc = get_codec(WireFormat.OPENAI_RESPONSES).stream_encoder("m")
    enc.feed(ev.MessageStart(id="resp_1"))
    enc.feed(ev.BlockStart(0, c.Reasoning()))
    for piece in PIECES:
        enc.feed(ev.ReasoningDelta(0, piece))
    done = {d["type"]: d for d in (_data(s) for s in enc.feed(ev.BlockStop(0)))}
    assert done["response.reasoning_summary_text.done"]["text"] == WHOLE


def test_gemini_function_call_args_join_every_delta() -> None:
    enc = get_codec(WireFormat.GEMINI).stream_encoder("m")
    enc.feed(ev.MessageStart(id="r"))
    enc.feed(ev.BlockStart(0, c.ToolCall("call_1", "f", "")))
    value = "x" * 3000
    for piece in ['{"a": "', *value, '"}']:
        enc.feed(ev.ArgumentsDelta(0, piece))
    (sse,) = enc.feed(ev.BlockStop(0))
    call = _data(sse)["candidates"][0]["content"]["parts"][0]["functionCall"]
    assert (call["id"], call["name"], call["args"]) == ("call_1", "f", {"a": value})
