"""Embeddings translation, pure: input shapes, order, base64 float32, usage, refusals."""

from __future__ import annotations

import base64
import json
import struct

import pytest

from octopus.errors import BadRequest, CannotServe, UpstreamProtocol
from octopus.protocols import WireFormat
from octopus.protocols import canonical as c
from octopus.protocols import embeddings as emb
from octopus.protocols.embeddings.vectors import from_base64, to_base64

VALUES = [0.5, -1.25, 3.0e-8, 1.0e20]


def test_base64_is_little_endian_float32() -> None:
    text = to_base64(VALUES)
    assert base64.b64decode(text) == struct.pack("<4f", *VALUES)
    assert from_base64(text) == list(struct.unpack("<4f", struct.pack("<4f", *VALUES)))
    with pytest.raises(UpstreamProtocol):
        from_base64("AAAA=")  # not a whole float


@pytest.mark.parametrize(
    ("value", "single", "inputs"),
    [
        ("hi", True, [emb.EmbedInput(text="hi")]),
        (["a", "b"], False, [emb.EmbedInput(text="a"), emb.EmbedInput(text="b")]),
        ([1, 2], True, [emb.EmbedInput(tokens=[1, 2])]),
        ([[1], [2, 3]], False, [emb.EmbedInput(tokens=[1]), emb.EmbedInput(tokens=[2, 3])]),
    ],
)
def test_openai_input_shapes(value: object, single: bool, inputs: list[emb.EmbedInput]) -> None:
    body = json.dumps({"model": "m", "input": value, "dimensions": 4}).encode()
    req = emb.openai.decode_request(body)
    assert (req.inputs, req.single, req.dimensions, req.base64) == (inputs, single, 4, False)


@pytest.mark.parametrize(
    "body",
    [
        b'{"model": "m", "input": []}',
        b'{"model": "m", "input": ["a", 1]}',
        b'{"model": "m", "input": [true]}',
        b'{"model": "m", "input": "a", "encoding_format": "int8"}',
        b'{"model": "m", "input": "a", "dimensions": 0}',
        b'{"model": "m"}',
    ],
)
def test_openai_bad_requests(body: bytes) -> None:
    with pytest.raises(BadRequest):
        emb.openai.decode_request(body)


def test_openai_answer_is_put_in_input_order_and_base64_decoded() -> None:
    data = [
        {"index": 1, "embedding": to_base64([2.0])},
        {"index": 0, "embedding": [1.0]},
    ]
    body = json.dumps({"data": data, "usage": {"prompt_tokens": 7, "total_tokens": 7}}).encode()
    answer = emb.openai.decode_response(body)
    assert answer.vectors == [[1.0], [2.0]]
    assert answer.usage == c.Usage(input_tokens=7)
    gemini = json.loads(emb.gemini.encode_response(answer, batch=True))
    assert gemini["embeddings"] == [{"values": [1.0]}, {"values": [2.0]}]


def test_openai_client_asking_base64_gets_it_from_floats() -> None:
    answer = emb.EmbedResponse([VALUES[:2]], usage=c.Usage(input_tokens=3))
    doc = json.loads(emb.openai.encode_response(answer, "up", base64=True))
    assert doc["data"] == [{"object": "embedding", "index": 0, "embedding": to_base64(VALUES[:2])}]
    assert doc["usage"] == {"prompt_tokens": 3, "total_tokens": 3}


def test_gemini_target_gets_one_call_per_shape() -> None:
    one = emb.EmbedRequest([emb.EmbedInput(text="x")], single=True, dimensions=2)
    action, body = emb.gemini.encode_request(one, "g")
    assert action == "embedContent"
    assert json.loads(body) == {
        "model": "models/g",
        "content": {"parts": [{"text": "x"}]},
        "outputDimensionality": 2,
    }
    many = emb.EmbedRequest([emb.EmbedInput(text="x"), emb.EmbedInput(text="y")], single=False)
    action, body = emb.gemini.encode_request(many, "g")
    assert action == "batchEmbedContents"
    assert [r["content"]["parts"][0]["text"] for r in json.loads(body)["requests"]] == ["x", "y"]
    tokens = emb.EmbedRequest([emb.EmbedInput(tokens=[1])], single=True)
    with pytest.raises(CannotServe):
        emb.gemini.encode_request(tokens, "g")


def test_gemini_client_requests() -> None:
    parts = {"parts": [{"text": "a"}, {"text": "b"}]}
    req = emb.gemini.decode_request(
        json.dumps({"content": parts, "title": "T", "taskType": "RETRIEVAL_DOCUMENT"}).encode(),
        batch=False,
    )
    assert (req.inputs, req.single, req.title) == ([emb.EmbedInput(text="a\nb")], True, "T")
    assert [loss.field for loss in emb.losses(req, WireFormat.GEMINI, WireFormat.OPENAI_CHAT)] == [
        "embeddings.task_type",
        "embeddings.title",
    ]
    image = {"parts": [{"inlineData": {"mimeType": "image/png", "data": "AA=="}}]}
    with pytest.raises(CannotServe):
        emb.gemini.decode_request(json.dumps({"content": image}).encode(), batch=False)
    with pytest.raises(CannotServe):
        emb.gemini.decode_request(b'{"requests": []}', batch=True)


def test_usage_absent_unreadable_or_reported() -> None:
    assert emb.gemini.usage_from_response(b'{"embedding": {"values": [1]}}') is None
    assert emb.openai.usage_from_response(b'{"data": []}') is None
    reported = b'{"embeddings": [], "usageMetadata": {"promptTokenCount": 4}}'
    assert emb.gemini.usage_from_response(reported) == c.Usage(input_tokens=4)
    with pytest.raises(UpstreamProtocol):
        emb.openai.usage_from_response(b"<html>busy</html>")


def test_model_rename_for_gemini_bodies() -> None:
    single = emb.gemini.with_model(b'{"model": "models/a", "content": {}}', "b")
    assert json.loads(single)["model"] == "models/b"
    batch = emb.gemini.with_model(b'{"requests": [{"model": "models/a"}, {}]}', "b")
    assert [r["model"] for r in json.loads(batch)["requests"]] == ["models/b", "models/b"]


def test_dialects() -> None:
    assert emb.dialect(WireFormat.OPENAI_RESPONSES) is WireFormat.OPENAI_CHAT
    assert emb.dialect(WireFormat.GEMINI) is WireFormat.GEMINI
    assert emb.dialect(WireFormat.ANTHROPIC) is None
