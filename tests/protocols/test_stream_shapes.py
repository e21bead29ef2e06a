"""What each stream encoder puts on the wire, and how decoders index parallel tool calls."""

from __future__ import annotations

import json
from typing import Any

import pytest

from octopus.errors import RateLimited
from octopus.protocols import WireFormat, get_codec
from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from octopus.protocols.sse import SseEvent, SseParser
from tests.protocols import golden

A, G, OC, OR = (
    WireFormat.ANTHROPIC,
    WireFormat.GEMINI,
    WireFormat.OPENAI_CHAT,
    WireFormat.OPENAI_RESPONSES,
)
USAGE = c.Usage(
    input_tokens=30,
    output_tokens=12,
    cache_read_tokens=10,
    cache_write_tokens=5,
    reasoning_tokens=4,
)


def parallel_calls() -> list[ev.Event]:
    """Text, then two tool calls whose argument deltas interleave."""
    return [
        ev.MessageStart("id-1", "up-model", 1700000000),
        ev.BlockStart(0, c.Reasoning()),
        ev.ReasoningDelta(0, "think"),
        ev.BlockStop(0),
        ev.BlockStart(1, c.Text("")),
        ev.TextDelta(1, "Checking."),
        ev.BlockStop(1),
        ev.BlockStart(2, c.ToolCall("call_a", "city", "")),
        ev.BlockStart(3, c.ToolCall("call_b", "lang", "")),
        ev.ArgumentsDelta(2, '{"user'),
        ev.ArgumentsDelta(3, '{"user_id"'),
        ev.ArgumentsDelta(2, '_id": "1"}'),
        ev.ArgumentsDelta(3, ': "2"}'),
        ev.BlockStop(2),
        ev.BlockStop(3),
        ev.MessageDelta("tool_use", None, USAGE),
        ev.MessageStop(),
    ]


def _json(events: list[SseEvent]) -> list[dict[str, Any]]:
    return [json.loads(e.data) for e in events if e.data != b"[DONE]"]


@pytest.mark.parametrize("fmt", list(WireFormat))
def test_parallel_calls_survive_every_encoder(fmt):
    out = golden.encode_events_to(fmt, parallel_calls(), "client-model")
    resp = golden.accumulate(golden.decode_events(fmt, golden.wire_roundtrip(fmt, out)))
    calls = [
        (b.id, b.name, json.loads(b.arguments)) for b in resp.content if isinstance(b, c.ToolCall)
    ]
    assert calls == [("call_a", "city", {"user_id": "1"}), ("call_b", "lang", {"user_id": "2"})]
    assert golden.essentials(resp)["text"] == "Checking."
    assert golden.essentials(resp)["reasoning"] == "think"
    assert resp.stop_reason == "tool_use"


def test_openai_chat_stream_shape():
    out = golden.encode_events_to(OC, parallel_calls(), "client-model")
    assert out[-1].data == b"[DONE]"
    chunks = _json(out)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all(ch["model"] == "client-model" and ch["id"] == "id-1" for ch in chunks)
    tool_deltas = [
        d for ch in chunks for ch0 in ch["choices"] for d in ch0["delta"].get("tool_calls", [])
    ]
    assert [d["index"] for d in tool_deltas] == [0, 1, 0, 1, 0, 1]
    assert tool_deltas[0]["id"] == "call_a"
    assert tool_deltas[1]["function"]["name"] == "lang"
    finish, usage = chunks[-2], chunks[-1]
    assert finish["choices"][0]["finish_reason"] == "tool_calls"
    assert usage["choices"] == []
    assert usage["usage"]["prompt_tokens"] == 30
    assert usage["usage"]["prompt_tokens_details"]["cached_tokens"] == 10
    assert usage["usage"]["completion_tokens_details"]["reasoning_tokens"] == 4


def test_openai_chat_stream_without_usage_chunk():
    enc = get_codec(OC).stream_encoder("m", include_usage=False)
    out = [s for e in parallel_calls() for s in enc.feed(e)] + enc.close()
    assert all("usage" not in chunk for chunk in _json(out))
    assert out[-1].data == b"[DONE]"


def test_anthropic_stream_shape():
    out = golden.encode_events_to(A, parallel_calls(), "client-model")
    kinds = [e.event for e in out]
    assert kinds[0] == "message_start"
    assert kinds[-2:] == ["message_delta", "message_stop"]
    bodies = _json(out)
    assert all(b["type"] == e.event for b, e in zip(bodies, out, strict=True))
    starts = [b for b in bodies if b["type"] == "content_block_start"]
    assert [(s["index"], s["content_block"]["type"]) for s in starts] == [
        (0, "thinking"),
        (1, "text"),
        (2, "tool_use"),
        (3, "tool_use"),
    ]
    deltas = [b["delta"]["type"] for b in bodies if b["type"] == "content_block_delta"]
    assert deltas.count("input_json_delta") == 4
    assert "thinking_delta" in deltas
    delta = bodies[-2]
    assert delta["delta"]["stop_reason"] == "tool_use"
    assert delta["usage"] == {
        "input_tokens": 15,
        "cache_creation_input_tokens": 5,
        "cache_read_input_tokens": 10,
        "output_tokens": 12,
    }
    assert bodies[0]["message"]["model"] == "client-model"


def test_responses_stream_shape():
    out = golden.encode_events_to(OR, parallel_calls(), "client-model")
    kinds = [e.event for e in out]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    for needed in (
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.reasoning_summary_text.delta",
    ):
        assert needed in kinds, needed
    bodies = _json(out)
    assert [b["sequence_number"] for b in bodies] == list(range(len(bodies)))
    added = [b for b in bodies if b["type"] == "response.output_item.added"]
    done = [b for b in bodies if b["type"] == "response.output_item.done"]
    assert len(added) == len(done) == 4
    final = bodies[-1]["response"]
    assert final["status"] == "completed"
    assert final["usage"]["input_tokens"] == 30
    assert final["usage"]["output_tokens_details"]["reasoning_tokens"] == 4
    assert [o["type"] for o in final["output"]] == [
        "reasoning",
        "message",
        "function_call",
        "function_call",
    ]
    assert final["output"][2]["arguments"] == '{"user_id": "1"}'


def test_gemini_stream_shape():
    out = golden.encode_events_to(G, parallel_calls(), "client-model")
    bodies = _json(out)
    assert all(e.event == "" for e in out)
    last = bodies[-1]
    assert last["candidates"][0]["finishReason"] == "STOP"
    assert last["usageMetadata"] == {
        "promptTokenCount": 30,
        "candidatesTokenCount": 8,
        "totalTokenCount": 42,
        "cachedContentTokenCount": 10,
        "thoughtsTokenCount": 4,
    }
    assert all("finishReason" not in b["candidates"][0] for b in bodies[:-1])
    calls = [
        p["functionCall"]
        for b in bodies
        for p in b["candidates"][0]["content"]["parts"]
        if "functionCall" in p
    ]
    assert calls == [
        {"id": "call_a", "name": "city", "args": {"user_id": "1"}},
        {"id": "call_b", "name": "lang", "args": {"user_id": "2"}},
    ]
    thoughts = [
        p for b in bodies for p in b["candidates"][0]["content"]["parts"] if p.get("thought")
    ]
    assert thoughts == [{"text": "think", "thought": True}]


@pytest.mark.parametrize("fmt", list(WireFormat))
def test_close_always_finishes_the_stream(fmt):
    """A relay that stops feeding early still gives the client a well-formed ending."""
    events = parallel_calls()[:7]  # through the first text block only
    enc = get_codec(fmt).stream_encoder("m")
    out = [s for e in events for s in enc.feed(e)] + enc.close()
    assert enc.close() == []
    assert enc.feed(ev.TextDelta(1, "late")) == []
    resp = golden.accumulate(golden.decode_events(fmt, golden.wire_roundtrip(fmt, out)))
    assert resp.error is None
    assert golden.essentials(resp)["text"] == "Checking."
    assert resp.stop_reason == "end"


@pytest.mark.parametrize("fmt", list(WireFormat))
def test_close_with_nothing_fed_still_finishes(fmt):
    out = get_codec(fmt).stream_encoder("m").close()
    resp = golden.accumulate(golden.decode_events(fmt, golden.wire_roundtrip(fmt, out)))
    assert resp.error is None
    assert resp.stop_reason == "end"


@pytest.mark.parametrize("fmt", list(WireFormat))
def test_mid_stream_error_becomes_the_clients_error_event(fmt):
    events = [*parallel_calls()[:6], ev.StreamError("slow down", 429, "rate_limit")]
    out = golden.encode_events_to(fmt, events)
    again = golden.decode_events(fmt, golden.wire_roundtrip(fmt, out))
    error = again[-1]
    assert isinstance(error, ev.StreamError)
    assert error.message == "slow down"
    assert golden.accumulate(again).error is not None


@pytest.mark.parametrize("fmt", list(WireFormat))
def test_encode_stream_error_is_read_as_an_error(fmt):
    sse = get_codec(fmt).encode_stream_error(RateLimited("too many requests"))
    parser = SseParser()
    parsed = parser.feed(b"".join(_wire(s) for s in sse))
    first = next(e for e in parsed)
    err = get_codec(fmt).first_event_error(first)
    assert err is not None
    assert "too many requests" in err.message
    assert err.status == 429


def _wire(event: SseEvent) -> bytes:
    from octopus.protocols.sse import encode_event

    return encode_event(event)


def test_openai_decoder_indexes_parallel_calls_by_wire_index():
    chunks = [
        {"id": "x", "choices": [{"index": 0, "delta": {"role": "assistant", "content": None}}]},
        {
            "id": "x",
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {"index": 0, "id": "a", "function": {"name": "f", "arguments": ""}},
                            {"index": 1, "id": "b", "function": {"name": "g", "arguments": "{"}},
                        ]
                    },
                }
            ],
        },
        {
            "id": "x",
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]},
                }
            ],
        },
        {
            "id": "x",
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 1, "function": {"arguments": "}"}}]},
                }
            ],
        },
        {"id": "x", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]
    sse = [SseEvent(json.dumps(ch).encode()) for ch in chunks] + [SseEvent(b"[DONE]")]
    events = golden.decode_events(OC, sse)
    args = [(e.index, e.json) for e in events if isinstance(e, ev.ArgumentsDelta)]
    assert args == [(1, "{"), (0, "{}"), (1, "}")]
    resp = golden.accumulate(events)
    assert [(b.id, b.arguments) for b in resp.content if isinstance(b, c.ToolCall)] == [
        ("a", "{}"),
        ("b", "{}"),
    ]


def test_openai_decoder_splits_calls_that_reuse_index_zero():
    """Some OpenAI-compatible servers send index 0 for every call; the id tells them apart."""
    chunks = [
        {
            "id": "x",
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}}
                        ]
                    },
                }
            ],
        },
        {
            "id": "x",
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [{"index": 0, "id": "a", "function": {"arguments": ""}}]
                    },
                }
            ],
        },
        {
            "id": "x",
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {"index": 0, "id": "b", "function": {"name": "g", "arguments": "{}"}}
                        ]
                    },
                }
            ],
        },
        {
            "id": "x",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2},
        },
    ]
    events = golden.decode_events(OC, [SseEvent(json.dumps(ch).encode()) for ch in chunks])
    resp = golden.accumulate(events)
    assert [b.id for b in resp.content if isinstance(b, c.ToolCall)] == ["a", "b"]
    assert resp.usage.input_tokens == 3


@pytest.mark.parametrize("fmt", list(WireFormat))
def test_decoders_report_unreadable_data(fmt):
    events = golden.decode_events(fmt, [SseEvent(b"{not json", event="message_start")])
    assert isinstance(events[-1], ev.StreamError)
    assert golden.last_error(events).status == 502
