"""The embeddings matrix: the `openai` and `google-genai` SDKs × 4 upstream types ×
{one input, batch order, dimensions, float vs base64, upstream without usage}.

OpenAI-type upstreams answer OpenAI's /v1/embeddings, Gemini ones :embedContent /
:batchEmbedContents; an Anthropic upstream cannot embed, so every cell on it checks the clear
400 in the client's own format. The openai SDK asks for base64 unless told otherwise.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from google.genai import errors as genai_errors
from google.genai import types

from octopus.protocols import WireFormat
from tests.fakes import embeddings as fake_emb
from tests.fakes.upstream import Fault
from tests.matrix.bench import UPSTREAM_MODEL, Bench, Cell
from tests.matrix.drivers_openai import ChatDriver
from tests.matrix.drivers_other import GeminiDriver

TEXTS = ["a", "the longer one", "mid text"]  # distinct lengths: each vector names its input
OPENAI_KINDS = (WireFormat.OPENAI_CHAT, WireFormat.OPENAI_RESPONSES)


async def embed(
    cell: Cell, texts: str | list[str], dims: int | None = None, encoding: str | None = None
) -> list[list[float]]:
    """Vectors in input order, through the cell client's SDK."""
    if cell.client == "chat":
        driver = cell.driver
        assert isinstance(driver, ChatDriver)
        kw: dict[str, Any] = {}
        if dims is not None:
            kw["dimensions"] = dims
        if encoding is not None:
            kw["encoding_format"] = encoding
        resp = await driver.client.embeddings.create(model=cell.model, input=texts, **kw)
        assert [d.index for d in resp.data] == list(range(len(resp.data)))
        return [list(d.embedding) for d in resp.data]
    gemini = cell.driver
    assert isinstance(gemini, GeminiDriver)
    config = types.EmbedContentConfig(output_dimensionality=dims) if dims else None
    answer = await gemini.client.models.embed_content(
        model=cell.model, contents=texts, config=config
    )
    return [list(e.values or []) for e in answer.embeddings or []]


def upstream_inputs(cell: Cell) -> tuple[str, list[str], Any]:
    """(endpoint, texts, dimensions) as the upstream received them, in its own dialect."""
    got = cell.received()
    doc: dict[str, Any] = got.json()
    if cell.kind is WireFormat.GEMINI:
        model, _, action = got.path.rpartition("/")[2].partition(":")
        assert model == UPSTREAM_MODEL
        requests: list[Any] = doc["requests"] if action == "batchEmbedContents" else [doc]
        assert {r["model"] for r in requests} == {f"models/{UPSTREAM_MODEL}"}
        texts = [r["content"]["parts"][0]["text"] for r in requests]
        return action, texts, {r.get("outputDimensionality") for r in requests}.pop()
    assert got.path == "/v1/embeddings"
    assert doc["model"] == UPSTREAM_MODEL
    raw = doc["input"]
    return "embeddings", [raw] if isinstance(raw, str) else raw, doc.get("dimensions")


async def one_input(cell: Cell) -> None:
    vectors = await embed(cell, "hello there")
    assert vectors == [fake_emb.vector_for("hello there")]
    endpoint, texts, _ = upstream_inputs(cell)
    assert texts == ["hello there"]
    # google-genai always calls batchEmbedContents; a lone OpenAI string maps to embedContent
    gemini_single = "embedContent" if cell.client == "chat" else "batchEmbedContents"
    assert endpoint == (gemini_single if cell.kind is WireFormat.GEMINI else "embeddings")
    record = cell.record()
    assert record.status == "success"
    assert record.client_format == f"{cell.client_format.value}/embeddings"
    assert (record.usage.input, record.usage.output) == (fake_emb.tokens_for("hello there"), 0)
    assert not record.usage.estimated


async def batch_order(cell: Cell) -> None:
    vectors = await embed(cell, TEXTS)
    assert vectors == [fake_emb.vector_for(text) for text in TEXTS]
    assert upstream_inputs(cell)[1] == TEXTS
    assert cell.record().usage.input == sum(fake_emb.tokens_for(text) for text in TEXTS)


async def dimensions(cell: Cell) -> None:
    vectors = await embed(cell, TEXTS[:2], dims=4)
    assert vectors == [fake_emb.vector_for(text, 4) for text in TEXTS[:2]]
    assert upstream_inputs(cell)[2] == 4


async def floats(cell: Cell) -> None:
    vectors = await embed(cell, TEXTS, encoding="float")
    assert vectors == [fake_emb.vector_for(text) for text in TEXTS]


async def base64_wire(cell: Cell) -> None:
    """The raw answer to `encoding_format: base64` holds little-endian float32 in base64."""
    driver = cell.driver
    assert isinstance(driver, ChatDriver)
    raw = await driver.client.embeddings.with_raw_response.create(
        model=cell.model, input=TEXTS, encoding_format="base64"
    )
    data = raw.http_response.json()["data"]
    assert [d["embedding"] for d in data] == [
        fake_emb.base64_of(fake_emb.vector_for(text)) for text in TEXTS
    ]
    if cell.kind in OPENAI_KINDS:  # passed through: the upstream was asked for base64 itself
        assert cell.received().json()["encoding_format"] == "base64"


async def no_usage(cell: Cell) -> None:
    """An upstream that reports no usage: input tokens are estimated, output stays 0."""
    cell.bench.fake.script(cell.tag, Fault(headers={fake_emb.NO_USAGE: "1"}))
    assert await embed(cell, TEXTS) == [fake_emb.vector_for(text) for text in TEXTS]
    usage = cell.record().usage
    assert usage.input > 0
    assert usage.output == 0  # however long the vectors: embeddings have no output tokens
    assert usage.estimated


SCENARIOS = {
    "one_input": one_input,
    "batch_order": batch_order,
    "dimensions": dimensions,
    "floats": floats,
    "base64_wire": base64_wire,
    "no_usage": no_usage,
}
OPENAI_ONLY = {"floats", "base64_wire"}  # encoding_format is OpenAI's; Gemini has floats only
CELLS = [
    (client, kind, scenario)
    for client in ("chat", "gemini")
    for kind in WireFormat
    for scenario in SCENARIOS
    if client == "chat" or scenario not in OPENAI_ONLY
]


@pytest.mark.parametrize(
    ("client", "kind", "scenario"),
    CELLS,
    ids=[f"{'openai' if c == 'chat' else c}-{k.value}-{s}" for c, k, s in CELLS],
)
async def test_cell(bench: Bench, client: str, kind: WireFormat, scenario: str) -> None:
    cell = bench.cell(client, kind)
    if kind is WireFormat.ANTHROPIC:
        await refused(cell)
    else:
        await SCENARIOS[scenario](cell)


async def refused(cell: Cell) -> None:
    """No embeddings API on the only member: a 400 in the client's format, nothing sent."""
    if cell.client == "chat":
        with pytest.raises(openai.BadRequestError) as caught:
            await embed(cell, TEXTS)
        message = caught.value.message
    else:
        with pytest.raises(genai_errors.ClientError) as raised:
            await embed(cell, TEXTS)
        assert raised.value.code == 400
        message = str(raised.value.message)
    assert "has no embeddings API" in message
    assert f"'{cell.tag}'" not in message  # channels are named to clients by number only
    assert cell.bench.fake.calls(cell.tag) == []
    assert cell.record().http_status == 400
