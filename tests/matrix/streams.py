"""Raw client streams read strictly: Anthropic Messages and Responses SSE checked event by event
for the grammar the agent CLIs rely on, and folded into what the CLI would keep."""

from __future__ import annotations

import json
from typing import Any

import httpx

from octopus.protocols.sse import SseParser


async def post_stream(
    url: str, headers: dict[str, str], body: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """POST, expect a 200 SSE answer, and return its (event name, JSON data) pairs."""
    async with httpx.AsyncClient(timeout=20) as http:
        resp = await http.post(url, headers=headers, content=json.dumps(body).encode())
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/event-stream")
    parser = SseParser()
    events = parser.feed(resp.content) + parser.close()
    return [(e.event, json.loads(e.data)) for e in events]


def anthropic_message(events: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The message a Messages stream builds; asserts its grammar on the way."""
    events = [(name, data) for name, data in events if name != "ping"]
    assert events[0][0] == "message_start", events[0]
    assert events[-1][0] == "message_stop", events[-1]
    message = dict(events[0][1]["message"])
    blocks: list[dict[str, Any]] = []
    open_index: int | None = None
    for name, data in events[1:-1]:
        assert data["type"] == name  # the event line names the payload type
        if name == "content_block_start":
            assert open_index is None
            assert data["index"] == len(blocks)
            open_index = data["index"]
            blocks.append({**data["content_block"], "partial": ""})
        elif name == "content_block_delta":
            assert data["index"] == open_index
            _apply(blocks[data["index"]], data["delta"])
        elif name == "content_block_stop":
            assert data["index"] == open_index
            open_index = None
        else:
            assert name == "message_delta", name
            message.update(data["delta"])
            message["usage"] = {**message.get("usage", {}), **data["usage"]}
    assert open_index is None
    message["content"] = [_finish(block) for block in blocks]
    return message


def _apply(block: dict[str, Any], delta: dict[str, Any]) -> None:
    kind = delta["type"]
    if kind == "text_delta":
        block["text"] += delta["text"]
    elif kind == "thinking_delta":
        block["thinking"] += delta["thinking"]
    elif kind == "signature_delta":
        block["signature"] = delta["signature"]
    else:
        assert kind == "input_json_delta", kind
        block["partial"] += delta["partial_json"]


def _finish(block: dict[str, Any]) -> dict[str, Any]:
    partial = block.pop("partial")
    if block["type"] == "tool_use":
        block["input"] = json.loads(partial) if partial else {}
    return block


def responses_result(
    events: list[tuple[str, dict[str, Any]]],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(the items from output_item.done, the completed response); asserts the grammar Codex
    needs: created first, completed last with usage, every item added and then done."""
    names = [name for name, _ in events]
    assert names[0] == "response.created", names
    assert names[-1] == "response.completed", names
    assert names.count("response.completed") == 1
    numbers = [data["sequence_number"] for _, data in events]
    assert numbers == sorted(numbers)
    added: dict[int, str] = {}
    done: list[dict[str, Any]] = []
    for name, data in events:
        assert data["type"] == name
        if name == "response.output_item.added":
            added[data["output_index"]] = data["item"]["id"]
        elif name == "response.output_item.done":
            assert added.pop(data["output_index"]) == data["item"]["id"]
            done.append(data["item"])
    assert not added, f"items never done: {added}"
    completed = events[-1][1]["response"]
    assert completed["status"] == "completed"
    assert completed["usage"]["input_tokens"] > 0
    assert completed["usage"]["output_tokens"] > 0
    return done, completed
