"""Any body on the embeddings routes, on the converting paths, gets a 2xx or a 4xx: never 5xx.

OpenAI-shaped bodies go to a Gemini-only group, Gemini-shaped ones to an OpenAI-only group, so
every body is decoded and re-encoded by the gateway rather than passed through.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from octopus.protocols import WireFormat
from tests.fakes.gateway import World, channel, fake_upstream, group, serve_relay

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-10, 100)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=8,
)
_inputs = st.one_of(
    st.text(max_size=12),
    st.lists(st.text(max_size=8), max_size=3),
    st.lists(st.integers(-5, 2**40), max_size=3),
    st.lists(st.lists(st.integers(0, 100), max_size=3), max_size=3),
    _values,
)
_openai = st.fixed_dictionaries(
    {"model": st.just("to-gemini"), "input": _inputs},
    optional={
        "dimensions": st.integers(-3, 64) | _values,
        "encoding_format": st.sampled_from(["float", "base64", "int8"]) | _values,
        "user": _values,
    },
)
_part = st.fixed_dictionaries({"text": st.text(max_size=8) | _values}) | st.fixed_dictionaries(
    {"inlineData": st.fixed_dictionaries({"mimeType": st.just("image/png"), "data": _values})}
)
_gemini_one = st.fixed_dictionaries(
    {"content": st.fixed_dictionaries({"parts": st.lists(_part, max_size=3)}) | _values},
    optional={
        "outputDimensionality": st.integers(-3, 64) | _values,
        "taskType": _values,
        "title": _values,
        "model": _values,
    },
)
_gemini = st.one_of(
    st.tuples(st.just("embedContent"), _gemini_one),
    st.tuples(
        st.just("batchEmbedContents"),
        st.fixed_dictionaries({"requests": st.lists(_gemini_one, max_size=3) | _values}),
    ),
)

# valid bodies, so that every route is seen answering whatever the draw
_VALID = {"content": {"parts": [{"text": "hi"}]}}
_VALID_BATCH = ("batchEmbedContents", {"requests": [_VALID, _VALID]})


def test_any_embeddings_body_gets_a_2xx_or_4xx() -> None:
    with asyncio.Runner() as runner:
        exits = contextlib.AsyncExitStack()
        fake = runner.run(exits.enter_async_context(fake_upstream()))
        world = World()
        world.channels += [channel(fake, 1, WireFormat.GEMINI), channel(fake, 2)]
        world.groups.append(group("to-gemini", world.channels[:1], gid=1))
        world.groups.append(group("to-openai", world.channels[1:], gid=2))
        key = world.add_key()
        gw = runner.run(exits.enter_async_context(serve_relay(world)))
        http = runner.run(exits.enter_async_context(httpx.AsyncClient(timeout=30)))
        headers = {"Authorization": f"Bearer {key}"}
        seen: set[tuple[str, int]] = set()

        def post(path: str, doc: dict[str, Any]) -> None:
            body = json.dumps(doc).encode()
            reply = runner.run(http.post(gw.url + path, headers=headers, content=body))
            assert reply.status_code < 500, (path, body[:300], reply.text[:300])
            seen.add((path.rpartition(":")[2], reply.status_code))

        @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
        @given(doc=_openai, gemini=_gemini)
        @example(doc={"model": "to-gemini", "input": "hi"}, gemini=("embedContent", _VALID))
        @example(doc={"model": "to-gemini", "input": ["a"]}, gemini=_VALID_BATCH)
        def check(doc: dict[str, Any], gemini: tuple[str, dict[str, Any]]) -> None:
            post("/v1/embeddings", doc)
            action, gemini_doc = gemini
            post(f"/v1beta/models/to-openai:{action}", gemini_doc)

        try:
            check()
        finally:
            runner.run(exits.aclose())
    # both outcomes were reached on every route: converted answers and clean refusals
    for route in ("/v1/embeddings", "embedContent", "batchEmbedContents"):
        assert {(route, 200), (route, 400)} <= seen, seen
