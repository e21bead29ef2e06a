"""The conversion matrix, content half: 4 client SDKs × 4 upstream types × stream/non-stream ×
{text, system, usage, tools, parallel tools, tool results, image base64/url, reasoning}.

Same-protocol cells take the passthrough path; they must pass the same checks. Assertions read
the upstream request in the upstream's own format and the answer through the client's SDK.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from octopus.protocols import WireFormat
from tests.fakes.replies import Reply
from tests.fakes.upstream import Fault
from tests.matrix import turns as t
from tests.matrix import upstream_view as view
from tests.matrix.bench import Bench, Cell, Scenario, run_cells
from tests.matrix.drivers_openai import ResponsesDriver
from tests.matrix.drivers_other import AnthropicDriver

TEXT = Reply(pieces=("alpha ", "beta ", "gamma"))
ONE_CALL = Reply(pieces=("Checking.",), calls=t.CALLS[:1])
TWO_CALLS = Reply(calls=t.CALLS)
AFTER_TOOLS = Reply(pieces=("18C and sunny at 14:05.",))
THINKING = Reply(thoughts=("The user wants ", "the weather."), pieces=("Sunny.",))
EVERYTHING = Reply(thoughts=("Two lookups.",), pieces=("Checking both.",), calls=t.CALLS)
# where the answer's finish reason says "run the tools"
TOOL_STOP = {
    "chat": "tool_calls",
    "anthropic": "tool_use",
    "responses": "completed",
    "gemini": "STOP",
}
NO_IDS = WireFormat.GEMINI  # Gemini calls and results have no ids: they pair by name


async def text(cell: Cell, stream: bool) -> None:
    answer = await cell.run(t.Turn(stream=stream), Fault(reply=TEXT))
    assert answer.text == "alpha beta gamma"
    assert view.user_text(cell.kind, cell.doc()) == t.USER
    assert cell.record().status == "success"


async def system(cell: Cell, stream: bool) -> None:
    answer = await cell.run(t.Turn(stream=stream, system=True), Fault(reply=TEXT))
    assert answer.text == "alpha beta gamma"
    doc = cell.doc()
    assert view.system_text(cell.kind, doc) == t.SYSTEM
    assert view.user_text(cell.kind, doc) == t.USER  # and not mixed into the user turn


async def usage(cell: Cell, stream: bool) -> None:
    answer = await cell.run(t.Turn(stream=stream, usage=True), Fault(reply=TEXT))
    tokens = TEXT.tokens
    # Anthropic usage has no reasoning-token count, in either direction
    anthropic = WireFormat.ANTHROPIC in (cell.kind, cell.client_format)
    expected = t.Usage(tokens.input, tokens.cached, tokens.output, 0 if anthropic else 8)
    assert answer.usage == expected
    logged = cell.record().usage
    assert (logged.input, logged.cache_read, logged.output) == (120, 100, 30)


def _schema_type(schema: dict[str, Any], prop: str) -> str:
    return str(schema["properties"][prop]["type"]).lower()  # Gemini SDK schemas say "STRING"


async def tools(cell: Cell, stream: bool) -> None:
    answer = await cell.run(t.Turn(stream=stream, tools=True), Fault(reply=ONE_CALL))
    sent = view.tools(cell.kind, cell.doc())
    assert sorted(sent) == ["get_time", "get_weather"]
    assert _schema_type(sent["get_weather"], "city") == "string"
    assert sent["get_weather"]["required"] == ["city"]
    assert answer.text == "Checking."
    assert [(c.name, c.args) for c in answer.calls] == [("get_weather", t.CALLS[0].args)]
    _check_ids(cell, answer, ["call_w1"])
    assert answer.stop == TOOL_STOP[cell.client]


def _check_ids(cell: Cell, answer: t.Answer, upstream_ids: list[str]) -> None:
    ids = [c.id for c in answer.calls]
    if cell.client_format is NO_IDS:
        return  # Gemini clients see no call ids: optional in the API, and no side sets one here
    if cell.kind is NO_IDS:
        assert all(ids)  # minted by the gateway, one per call
        assert len(set(ids)) == len(ids)
        return
    assert ids == upstream_ids


async def parallel_tools(cell: Cell, stream: bool) -> None:
    answer = await cell.run(t.Turn(stream=stream, tools=True), Fault(reply=TWO_CALLS))
    assert [(c.name, c.args) for c in answer.calls] == [(c.name, c.args) for c in t.CALLS]
    assert [c.index for c in answer.calls] == [0, 1]  # wire index / output index / position
    _check_ids(cell, answer, ["call_w1", "call_t2"])
    assert answer.stop == TOOL_STOP[cell.client]
    assert answer.text == ""


async def tool_results(cell: Cell, stream: bool) -> None:
    answer = await cell.run(t.Turn(stream=stream, history=True), Fault(reply=AFTER_TOOLS))
    assert answer.text == "18C and sunny at 14:05."
    calls, results = view.history(cell.kind, cell.doc())
    args = [json.loads(a) if isinstance(a, str) else a for _, _, a in calls]
    assert [name for _, name, _ in calls] == ["get_weather", "get_time"]
    assert args == [c.args for c in t.CALLS]
    assert [text for _, text in results] == ["18C and sunny", "14:05"]
    # results answer their calls: by id, or by function name where there are no ids
    assert [key for key, _ in results] == [key for key, _, _ in calls]
    if cell.kind is not NO_IDS and cell.client_format is not NO_IDS:
        assert [key for key, _, _ in calls] == ["call_w1", "call_t2"]


async def _image(cell: Cell, stream: bool, kind: str, expected: tuple[str, str]) -> None:
    answer = await cell.run(t.Turn(stream=stream, image=kind), Fault(reply=TEXT))
    assert answer.text == "alpha beta gamma"
    doc = cell.doc()
    got = view.images(cell.kind, doc)
    if cell.kind is WireFormat.GEMINI:  # Gemini also takes the URL-safe base64 google-genai sends
        got = [(k, v.replace("-", "+").replace("_", "/")) for k, v in got]
    assert got == [expected]
    assert view.user_text(cell.kind, doc) == t.USER


async def image_base64(cell: Cell, stream: bool) -> None:
    await _image(cell, stream, "base64", ("base64", t.PNG_B64))


async def image_url(cell: Cell, stream: bool) -> None:
    await _image(cell, stream, "url", ("url", t.IMAGE_URL))


async def reasoning(cell: Cell, stream: bool) -> None:
    answer = await cell.run(t.Turn(stream=stream, reasoning=True), Fault(reply=THINKING))
    effort, budget = view.reasoning(cell.kind, cell.doc())
    if cell.kind in (WireFormat.OPENAI_CHAT, WireFormat.OPENAI_RESPONSES):
        assert effort == "high"  # OpenAI takes an effort level only
    else:
        assert budget == t.BUDGET  # Anthropic and Gemini take a token budget
    assert answer.text == "Sunny."
    # every client format can show reasoning: Chat as the `reasoning_content` extra, Responses
    # as a reasoning summary, Anthropic as a thinking block, Gemini as thought parts
    assert answer.thinking == "The user wants the weather."


async def other_mode(cell: Cell, stream: bool) -> None:
    """The upstream answers in the other mode: a JSON client gets the stream accumulated, a
    stream client gets the JSON replayed as a stream; nothing is lost either way."""
    fault = Fault(reply=EVERYTHING, force_sse=not stream, force_json=stream)
    answer = await cell.run(t.Turn(stream=stream, tools=True, usage=True), fault)
    assert answer.thinking == "Two lookups."
    assert answer.text == "Checking both."
    assert [(c.name, c.args) for c in answer.calls] == [(c.name, c.args) for c in t.CALLS]
    _check_ids(cell, answer, ["call_w1", "call_t2"])
    assert answer.stop == TOOL_STOP[cell.client]
    anthropic = WireFormat.ANTHROPIC in (cell.kind, cell.client_format)
    assert answer.usage == t.Usage(120, 100, 30, 0 if anthropic else 8)


SCENARIOS: dict[str, Scenario] = {
    "text": text,
    "system": system,
    "usage": usage,
    "tools": tools,
    "parallel_tools": parallel_tools,
    "tool_results": tool_results,
    "image_base64": image_base64,
    "image_url": image_url,
    "reasoning": reasoning,
    "other_mode": other_mode,
}
test_cell = run_cells(SCENARIOS)


OPAQUE = Reply(thoughts=("Hidden steps.",), pieces=("Done.",), opaque="RW5jcnlwdGVkU3RhdGU=")


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_replayed_answers_keep_opaque_reasoning(bench: Bench, stream: bool) -> None:
    """Same-format answers in the other mode go through the codecs, not passthrough: the
    provider-private reasoning state must survive (a store:false / thinking client sends it
    back next turn, with the ids it was given)."""
    fault = Fault(reply=OPAQUE, force_sse=not stream, force_json=stream)
    claude, codex = bench.drivers["anthropic"], bench.drivers["responses"]
    assert isinstance(claude, AnthropicDriver)
    assert isinstance(codex, ResponsesDriver)
    cell = bench.cell("anthropic", WireFormat.ANTHROPIC)
    bench.fake.script(cell.tag, fault)
    kw = claude.request(cell.model, t.Turn(reasoning=True))
    if stream:
        async with claude.client.messages.stream(**kw) as events:
            message = await events.get_final_message()
    else:
        message = await claude.client.messages.create(**kw)
    blocks = [b.model_dump(exclude_none=True) for b in message.content]
    assert blocks[:2] == [
        {"type": "thinking", "thinking": "Hidden steps.", "signature": "c2lnbmVk"},
        {"type": "redacted_thinking", "data": OPAQUE.opaque},
    ]
    cell = bench.cell("responses", WireFormat.OPENAI_RESPONSES)
    bench.fake.script(cell.tag, fault)
    kw = codex.request(cell.model, t.Turn(reasoning=True))
    kw["include"] = ["reasoning.encrypted_content"]
    if stream:
        done = [
            e.item
            async for e in await codex.client.responses.create(stream=True, **kw)
            if e.type == "response.output_item.done"
        ]
    else:
        done = (await codex.client.responses.create(**kw)).output
    reasoning = done[0].model_dump(exclude_none=True)
    assert reasoning["id"] == "rs_scripted"  # announced and finished under the upstream's id
    assert reasoning["encrypted_content"] == OPAQUE.opaque
