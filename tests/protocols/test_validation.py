"""Invalid client bodies become BadRequest with a message naming the problem, never a trace."""

from __future__ import annotations

import pytest

from octopus.errors import BadRequest
from octopus.protocols import WireFormat, get_codec

A, G, OC, OR = (
    WireFormat.ANTHROPIC,
    WireFormat.GEMINI,
    WireFormat.OPENAI_CHAT,
    WireFormat.OPENAI_RESPONSES,
)


@pytest.mark.parametrize(
    ("fmt", "body", "message"),
    [
        (OC, b"{", "malformed JSON"),
        (OC, b'{"model": "m"}', "messages"),
        (OC, b'{"model": "m", "messages": [{"role": "robot", "content": "x"}]}', "role"),
        (OC, b'{"model": "m", "messages": [], "tool_choice": "sometimes"}', "tool_choice"),
        (OC, b'{"model": "m", "messages": [], "reasoning_effort": "huge"}', "reasoning_effort"),
        (
            OC,
            b'{"model": "m", "messages": [], "response_format": {"type": "yaml"}}',
            "response_format",
        ),
        (A, b'{"model": "m", "messages": "hi"}', "messages"),
        (A, b'{"model": "m", "messages": [{"role": "robot", "content": "x"}]}', "role"),
        (A, b'{"model": "m", "messages": [], "tool_choice": {"type": "maybe"}}', "tool_choice"),
        (A, b'{"model": "m", "messages": [], "thinking": {"type": "deep"}}', "thinking"),
        (OR, b'{"model": 5}', "model"),
        (OR, b'{"model": "m", "input": [{"role": "robot", "content": "x"}]}', "role"),
        (OR, b'{"model": "m", "tool_choice": "sometimes"}', "tool_choice"),
        (OR, b'{"model": "m", "reasoning": {"effort": "huge"}}', "reasoning.effort"),
        (OR, b'{"model": "m", "text": {"format": {"type": "yaml"}}}', "text.format"),
        (G, b'{"contents": 3}', "contents"),
    ],
)
def test_invalid_requests_are_bad_requests(fmt, body, message):
    with pytest.raises(BadRequest) as info:
        get_codec(fmt).decode_request(body, model="m")
    assert message in info.value.message
    assert info.value.status == 400
