"""fetch-model: upstream model lists per provider type, paginated, filtered, errors reported."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from octopus.errors import BadRequest, UpstreamStatus
from octopus.protocols import WireFormat
from octopus.upstream.aiohttp_transport import AiohttpTransport
from octopus.upstream.models import list_models
from tests.fakes.fixtures import fake
from tests.fakes.upstream import FakeUpstream, Fault

__all__ = ["fake"]
NAMES = ["gpt-4o", "gpt-4o-mini", "o3", "claude-x", "gemini-2.5-pro"]


@pytest.fixture
async def transport() -> AsyncIterator[AiohttpTransport]:
    t = AiohttpTransport()
    yield t
    await t.aclose()


@pytest.mark.parametrize("kind", list(WireFormat))
async def test_lists_every_page(
    fake: FakeUpstream, transport: AiohttpTransport, kind: WireFormat
) -> None:
    fake.models["c1"] = NAMES
    got = await list_models(
        transport,
        kind,
        fake.base("c1", kind),
        "secret-key",
        headers=[("X-Org", "o1"), ("Authorization", "Bearer hijack")],
    )
    assert got == NAMES
    calls = fake.calls("c1")
    auth = {
        "x-api-key": "secret-key",
        "x-goog-api-key": "secret-key",
        "authorization": "Bearer secret-key",
    }
    header = {WireFormat.ANTHROPIC: "x-api-key", WireFormat.GEMINI: "x-goog-api-key"}.get(
        kind, "authorization"
    )
    assert all(c.headers[header] == auth[header] for c in calls)
    assert all(c.headers["x-org"] == "o1" for c in calls)
    if kind is WireFormat.ANTHROPIC:
        assert calls[0].headers["anthropic-version"] == "2023-06-01"
        assert [c.query for c in calls] == [
            "limit=1000",
            "limit=1000&after_id=gpt-4o-mini",
            "limit=1000&after_id=claude-x",
        ]
    elif kind is WireFormat.GEMINI:
        assert len(calls) == 3
        assert calls[1].query == "pageSize=1000&pageToken=2"
    else:
        assert len(calls) == 1


async def test_regex_filter(fake: FakeUpstream, transport: AiohttpTransport) -> None:
    fake.models["c1"] = NAMES
    got = await list_models(
        transport,
        WireFormat.OPENAI_CHAT,
        fake.base("c1", WireFormat.OPENAI_CHAT),
        "k",
        match_regex="^gpt-4o",
    )
    assert got == ["gpt-4o", "gpt-4o-mini"]
    with pytest.raises(BadRequest):
        await list_models(
            transport,
            WireFormat.OPENAI_CHAT,
            fake.base("c1", WireFormat.OPENAI_CHAT),
            "k",
            match_regex="(",
        )


async def test_upstream_error_is_reported_with_status_and_message(
    fake: FakeUpstream, transport: AiohttpTransport
) -> None:
    fake.script(
        "c1",
        Fault(status=401, body=b'{"error":{"message":"Incorrect API key provided: secret-key"}}'),
    )
    with pytest.raises(UpstreamStatus) as caught:
        await list_models(
            transport, WireFormat.OPENAI_CHAT, fake.base("c1", WireFormat.OPENAI_CHAT), "secret-key"
        )
    assert caught.value.status == 401
    assert caught.value.message == "upstream responded 401: Incorrect API key provided: ***"


async def test_non_json_error_page(fake: FakeUpstream, transport: AiohttpTransport) -> None:
    fake.script("c1", Fault(status=502, body=b"<html>Bad gateway</html>"))
    with pytest.raises(UpstreamStatus) as caught:
        await list_models(transport, WireFormat.GEMINI, fake.base("c1", WireFormat.GEMINI), "k")
    assert "502: <html>Bad gateway</html>" in caught.value.message
