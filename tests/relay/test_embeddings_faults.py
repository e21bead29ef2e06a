"""Embeddings faults that are not the gateway's: a client body nested too deeply gets a 400 in the
client's format (never a 500 logged as a disconnect), and an upstream answer the codec cannot
read fails over to the next member."""

from __future__ import annotations

import httpx
import pytest

from octopus.protocols import WireFormat
from octopus.relay.job import Job
from octopus.relay.outbound import Target
from octopus.relay.ready import Ready
from tests.fakes import embeddings as fake_emb
from tests.fakes.gateway import World, channel, group, serve_relay
from tests.fakes.upstream import FakeUpstream, Fault

# around the decoder's recursion limit: the first decode (read_head) and the converting attempt
# (its own task, so its own stack) must both turn the depth into a 400
DEPTHS = range(900, 1000)


def _nested(depth: int) -> bytes:
    return b'{"model": "emb", "input": ' + b"[" * depth + b"]" * depth + b"}"


async def test_deeply_nested_input_gets_a_400_in_the_callers_format(
    fake: FakeUpstream, world: World
) -> None:
    world.channels.append(channel(fake, 1, WireFormat.GEMINI))  # converted: the body is decoded
    world.groups.append(group("emb", world.channels))
    key = world.add_key()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    async with serve_relay(world) as gw, httpx.AsyncClient(timeout=30) as http:
        answers = [
            await http.post(f"{gw.url}/v1/embeddings", headers=headers, content=_nested(depth))
            for depth in DEPTHS
        ]
    assert {a.status_code for a in answers} == {400}
    assert {a.json()["error"]["type"] for a in answers} == {"invalid_request_error"}
    assert any("nested too deeply" in a.json()["error"]["message"] for a in answers)
    outcomes = {a.outcome for record in gw.sink.records for a in record.attempts}
    assert outcomes <= {"rejected"}  # a client fault, never a disconnect
    assert fake.received == []


@pytest.mark.parametrize(
    "broken",
    [
        b'{"data": [{"embedding": [1.0], "index": 0}], "model": "\xff\xfe"}',  # not UTF-8
        b'{"data": [{"embedding": [1.0], "index": 0}], "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    ],
    ids=["not-utf8", "too-deep"],
)
async def test_an_answer_the_codec_cannot_read_fails_over(
    fake: FakeUpstream, world: World, broken: bytes
) -> None:
    world.channels += [channel(fake, 1), channel(fake, 2)]  # OpenAI members, a Gemini client
    world.groups.append(group("emb", world.channels))
    key = world.add_key()
    fake.script("c1", Fault(status=200, body=broken))
    body = b'{"content": {"parts": [{"text": "hello"}]}, "outputDimensionality": 3}'
    async with serve_relay(world) as gw, httpx.AsyncClient(timeout=30) as http:
        resp = await http.post(
            f"{gw.url}/v1beta/models/emb:embedContent",
            headers={"x-goog-api-key": key},
            content=body,
        )
    assert resp.status_code == 200, resp.text
    assert resp.json()["embedding"]["values"] == fake_emb.vector_for("hello", 3)
    assert fake.tags() == ["c1", "c2"]
    first, second = gw.sink.records[0].attempts
    assert (first.outcome, second.outcome) == ("failed", "success")
    assert "upstream" in first.error


class _Broken:
    """An exchanger with a bug of ours: the attempt must not be logged as a client disconnect."""

    async def prepare(self, job: Job, target: Target) -> Ready:
        raise RuntimeError("a bug in the gateway")


async def test_an_internal_error_is_not_logged_as_a_disconnect(
    fake: FakeUpstream, world: World
) -> None:
    world.channels.append(channel(fake, 1))
    world.groups.append(group("emb", world.channels))
    key = world.add_key()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    async with serve_relay(world) as gw, httpx.AsyncClient(timeout=30) as http:
        gw.service._embed_attempts._exchanger = _Broken()
        resp = await http.post(f"{gw.url}/v1/embeddings", headers=headers, content=_nested(1))
        (record,) = await gw.records()
    assert resp.status_code == 500
    assert resp.json()["error"]["message"] == "internal error"  # no traceback, no details
    assert record.status == "failed"
    (attempt,) = record.attempts
    assert (attempt.outcome, attempt.error) == ("failed", "internal error (RuntimeError)")
