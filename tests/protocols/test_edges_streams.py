"""Stream decoder and error-sniffing edge cases shared by the codecs."""

from __future__ import annotations

import json

from octopus.protocols import WireFormat, get_codec
from octopus.protocols import canonical as c
from octopus.protocols import events as ev
from octopus.protocols.sse import SseEvent
from tests.protocols import golden
from tests.protocols.golden import decode, sse

A, G, OC, OR = (
    WireFormat.ANTHROPIC,
    WireFormat.GEMINI,
    WireFormat.OPENAI_CHAT,
    WireFormat.OPENAI_RESPONSES,
)


# Stragglers -----------------------------------------------------------------------------------


def test_decoders_ignore_events_after_the_end():
    chat = get_codec(OC).stream_decoder()
    assert chat.feed(SseEvent(b'{"id":"x","choices":[{"index":0,"delta":{"content":"a"}}]}'))
    done = chat.feed(SseEvent(b"[DONE]"))
    assert isinstance(done[-1], ev.MessageStop)
    assert isinstance(done[-2], ev.MessageDelta)
    assert chat.feed(SseEvent(b'{"id":"x"}')) == []
    assert chat.close() == []
    assert chat.feed(SseEvent(b"  ")) == []
    for fmt in (A, G, OR):
        dec = get_codec(fmt).stream_decoder()
        dec.feed(SseEvent(b"{oops", "message_start"))
        assert dec.feed(SseEvent(b'{"type":"ping"}', "ping")) == []
        assert dec.close() == []


def test_gemini_stream_stragglers():
    events = golden.decode_events(
        G,
        sse(
            G,
            {
                "candidates": [
                    {"content": {"parts": [{"text": "", "thought": True}, {"functionCall": {}}]}}
                ]
            },
            {"candidates": [{"content": {"parts": [{"text": "a"}]}, "finishReason": "MAX_TOKENS"}]},
            {"usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 1}},
        ),
    )
    assert events[-2] == ev.MessageDelta(usage=c.Usage(9, 1))
    assert golden.accumulate(events).stop_reason == "length"
    req = get_codec(G).decode_request(
        json.dumps(
            {
                "contents": [
                    {
                        "role": "user",
                        "parts": [
                            {"functionResponse": {"name": "f", "response": {"error": "denied"}}}
                        ],
                    },
                ]
            }
        ).encode(),
        model="m",
    )
    assert req.messages[0].content == [
        c.ToolResult("call_f", [c.Text("denied")], is_error=True, name="f")
    ]
    enc = get_codec(G).stream_encoder("m", include_usage=False)
    out = enc.feed(ev.BlockStart(0, c.ToolCall("k", "f", ""))) + enc.close()
    assert (
        json.loads(out[0].data)["candidates"][0]["content"]["parts"][0]["functionCall"]["name"]
        == "f"
    )
    assert "usageMetadata" not in json.loads(out[-1].data)


def test_error_sniffing_needs_a_real_error():
    assert (
        get_codec(OC).first_event_error(
            SseEvent(b'{"choices":[{"delta":{"content":"\\"error\\""}}]}')
        )
        is None
    )
    event = SseEvent(
        b'{"type":"response.output_text.delta","delta":"\\"error\\""}', "response.output_text.delta"
    )
    assert get_codec(OR).first_event_error(event) is None


def test_tool_result_skips_nested_non_content_blocks():
    req = decode(
        A,
        {
            "model": "m",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "t",
                            "content": [{"type": "tool_use", "id": "x", "name": "y", "input": {}}],
                        },
                    ],
                }
            ],
        },
    )
    assert req.messages[0].content == [c.ToolResult("t", [])]
