"""Claude Code and Codex, replayed as raw HTTP with their exact headers and bodies, through the
gateway against a channel of every type: turn 1 (a tool call comes back usable) and turn 2
(the tool result goes back), checking the stream grammar each CLI needs and what the upstream
got: passthrough keeps everything (the `anthropic-beta` header too), conversion drops what the
target does not know.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from octopus.protocols import WireFormat
from tests.fakes.replies import Call, Reply, Tokens
from tests.fakes.upstream import Fault, Received
from tests.matrix import agents
from tests.matrix import upstream_view as view
from tests.matrix.bench import UPSTREAM_MODEL, Bench, Cell
from tests.matrix.streams import anthropic_message, post_stream, responses_result

TOKENS = Tokens(input=900, cached=600, output=40, reasoning=12)
BASH = Call("toolu_01Bash", "Bash", {"command": "ls", "description": "List files"})
CLAUDE_TURN1 = Reply(
    thoughts=("I should run ls.",), pieces=("Running ls.",), calls=(BASH,), tokens=TOKENS
)
CLAUDE_TURN2 = Reply(pieces=("There are two files: a.txt and b.txt.",), tokens=TOKENS)
EXEC = Call("call_exec01", "exec_command", {"cmd": "ls", "workdir": "/repo"})
CODEX_TURN1 = Reply(thoughts=("Listing the files.",), calls=(EXEC,), tokens=TOKENS)
CODEX_TURN2 = Reply(pieces=("a.txt and b.txt.",), tokens=TOKENS)
STDOUT = "a.txt\nb.txt"
CLAUDE_TOOLS = [t["name"] for t in agents.claude_tools()]
CODEX_FUNCTIONS = [t["name"] for t in agents.codex_tools() if t["type"] == "function"]


def _secret(cell: Cell) -> str:
    return f"upstream-secret-{cell.tag}-0"  # the channel's key, never the client's


def _no_client_key(bench: Bench, cell: Cell) -> None:
    for got in bench.fake.calls(cell.tag):
        assert all(bench.key not in value for value in got.headers.values())


def _same_body(got: Received, sent: dict[str, Any]) -> None:
    """Passthrough: the upstream body is the client's, with the routed model."""
    assert got.json() == {**sent, "model": UPSTREAM_MODEL}


def _stripped(doc: dict[str, Any], *words: str) -> None:
    text = json.dumps(doc)
    for word in words:
        assert word not in text, f"{word} reached the upstream"


def _claude_turn1_upstream(cell: Cell, got: Received, sent: dict[str, Any]) -> None:
    if cell.kind is WireFormat.ANTHROPIC:
        assert got.headers["anthropic-beta"] == agents.CLAUDE_BETAS
        assert got.headers["anthropic-version"] == "2023-06-01"
        assert got.headers["x-api-key"] == _secret(cell)
        _same_body(got, sent)  # role:"system" turns, defer_loading, context_management... kept
        return
    assert "anthropic-beta" not in got.headers
    doc = got.json() if got.body else {}
    _stripped(doc, "defer_loading", "cache_control", "context_management", "clear_thinking")
    assert sorted(view.tools(cell.kind, doc)) == sorted(CLAUDE_TOOLS)
    if cell.kind is WireFormat.GEMINI:  # Gemini's OpenAPI subset knows no JSON Schema 2020-12
        _stripped(doc, "$schema", "additionalProperties", "exclusiveMinimum")
    system = view.system_text(cell.kind, doc)
    assert "You are Claude Code." in system
    assert agents.ENVIRONMENT in system  # the role:"system" message, mapped to instructions
    assert agents.CLAUDE_PROMPT in view.user_text(cell.kind, doc)
    effort, budget = view.reasoning(cell.kind, doc)
    if cell.kind is WireFormat.GEMINI:
        assert budget == -1  # adaptive thinking = Gemini's dynamic budget
    else:
        assert effort == "high"  # output_config.effort


def _history_upstream(cell: Cell, got: Received, name: str, args: dict[str, Any]) -> None:
    calls, results = view.history(cell.kind, got.json())
    assert [(n, json.loads(a) if isinstance(a, str) else a) for _, n, a in calls] == [(name, args)]
    assert [key for key, _ in results] == [key for key, _, _ in calls]  # the pair is intact
    assert STDOUT in results[0][1]


@pytest.mark.parametrize("kind", list(WireFormat), ids=[k.value for k in WireFormat])
async def test_claude_code_against_every_channel_type(bench: Bench, kind: WireFormat) -> None:
    cell = bench.cell("anthropic", kind)
    bench.fake.script(cell.tag, Fault(reply=CLAUDE_TURN1), Fault(reply=CLAUDE_TURN2))
    url, headers = bench.gateway.url + agents.CLAUDE_PATH, agents.claude_headers(bench.key)
    first = agents.claude_body(cell.model)
    message = anthropic_message(await post_stream(url, headers, first))
    assert message["stop_reason"] == "tool_use"
    assert message["usage"]["output_tokens"] == TOKENS.output
    uses = [b for b in message["content"] if b["type"] == "tool_use"]
    assert [(u["name"], u["input"]) for u in uses] == [("Bash", BASH.args)]
    assert uses[0]["id"]
    _claude_turn1_upstream(cell, bench.fake.calls(cell.tag)[0], first)

    # turn 2: the assistant turn as it streamed (thinking, text, tool_use), then the result
    later = [
        {"role": "assistant", "content": message["content"]},
        agents.claude_tool_result(uses[0]["id"], STDOUT),
    ]
    second = agents.claude_body(cell.model, later)
    # this time as ANTHROPIC_AUTH_TOKEN users send it: a Bearer token instead of x-api-key
    bearer = {k: v for k, v in headers.items() if k != "x-api-key"}
    bearer["Authorization"] = f"Bearer {bench.key}"
    reply = anthropic_message(await post_stream(url, bearer, second))
    assert [b["text"] for b in reply["content"] if b["type"] == "text"] == [CLAUDE_TURN2.text]
    assert reply["stop_reason"] == "end_turn"
    got = bench.fake.calls(cell.tag)[1]
    if cell.kind is WireFormat.ANTHROPIC:
        assert got.headers["anthropic-beta"] == agents.CLAUDE_BETAS
        _same_body(got, second)
    else:
        _stripped(got.json(), "cache_control", "defer_loading")
    _history_upstream(cell, got, "Bash", BASH.args)
    _no_client_key(bench, cell)


def _codex_turn1_upstream(cell: Cell, got: Received, sent: dict[str, Any]) -> None:
    if cell.kind is WireFormat.OPENAI_RESPONSES:
        assert got.headers["authorization"] == f"Bearer {_secret(cell)}"
        _same_body(got, sent)  # namespace, web_search, include, client_metadata... kept
        return
    doc = got.json()
    _stripped(doc, "namespace", "web_search", "multi_agent_v1", "client_metadata")
    # the namespace is flattened into plain functions; the hosted web_search is dropped
    assert sorted(view.tools(cell.kind, doc)) == sorted(
        [*CODEX_FUNCTIONS, "spawn_agent", "wait_agent"]
    )
    system = view.system_text(cell.kind, doc)
    assert "You are Codex" in system
    assert "Skills available" in system
    assert agents.CODEX_PROMPT in view.user_text(cell.kind, doc)


@pytest.mark.parametrize("kind", list(WireFormat), ids=[k.value for k in WireFormat])
async def test_codex_against_every_channel_type(bench: Bench, kind: WireFormat) -> None:
    cell = bench.cell("responses", kind)
    bench.fake.script(cell.tag, Fault(reply=CODEX_TURN1), Fault(reply=CODEX_TURN2))
    url, headers = bench.gateway.url + agents.CODEX_PATH, agents.codex_headers(bench.key)
    first = agents.codex_body(cell.model)
    items, completed = responses_result(await post_stream(url, headers, first))
    assert completed["usage"]["input_tokens"] == TOKENS.input
    assert completed["usage"]["input_tokens_details"]["cached_tokens"] == TOKENS.cached
    calls = [i for i in items if i["type"] == "function_call"]
    assert [(c["name"], json.loads(c["arguments"])) for c in calls] == [("exec_command", EXEC.args)]
    assert calls[0]["call_id"]
    assert calls[0]["id"]
    _codex_turn1_upstream(cell, bench.fake.calls(cell.tag)[0], first)

    # turn 2 (store=false): everything again, the items echoed with their ids, then the output
    later = [*items, agents.codex_output(calls[0]["call_id"], STDOUT)]
    second = agents.codex_body(cell.model, later)
    items2, completed2 = responses_result(await post_stream(url, headers, second))
    texts = [p["text"] for i in items2 if i["type"] == "message" for p in i["content"]]
    assert texts == [CODEX_TURN2.text]
    assert completed2["output"] == items2
    got = bench.fake.calls(cell.tag)[1]
    if cell.kind is WireFormat.OPENAI_RESPONSES:
        _same_body(got, second)
    _history_upstream(cell, got, "exec_command", EXEC.args)
    _no_client_key(bench, cell)
