"""The conversion matrix, failure half: 4 client SDKs × 4 upstream types × stream/non-stream ×
{upstream 429, 400, 500, mid-stream drop}.

An upstream error reaches the client as its own SDK's exception with a meaningful status and
the provider's message; a stream cut after commit ends in the client's in-band error.
"""

from __future__ import annotations

import json

import anthropic
import openai
import pytest
from google.genai import errors as genai_errors

from octopus.protocols import WireFormat
from tests.fakes import payloads, replies_stream
from tests.fakes.replies import Reply
from tests.fakes.upstream import Fault
from tests.fixture_paths import PROTOCOL_FIXTURES
from tests.matrix import turns as t
from tests.matrix.bench import UPSTREAM_MODEL, Cell, Scenario, run_cells

GEMINI_429 = PROTOCOL_FIXTURES / "gemini" / "vercel-ai__google-429-retry-info.json"
TEXT = Reply(pieces=("alpha ", "beta ", "gamma"))

RATE_LIMIT: dict[str, type[Exception]] = {
    "chat": openai.RateLimitError,
    "responses": openai.RateLimitError,
    "anthropic": anthropic.RateLimitError,
    "gemini": genai_errors.ClientError,
}
BAD_REQUEST: dict[str, type[Exception]] = {
    "chat": openai.BadRequestError,
    "responses": openai.BadRequestError,
    "anthropic": anthropic.BadRequestError,
    "gemini": genai_errors.ClientError,
}
STATUS_ERROR: dict[str, type[Exception]] = {
    "chat": openai.APIStatusError,
    "responses": openai.APIStatusError,
    "anthropic": anthropic.APIStatusError,
    "gemini": genai_errors.ServerError,
}


def _status(exc: Exception) -> int:
    if isinstance(exc, genai_errors.APIError):
        return exc.code
    assert isinstance(exc, openai.APIStatusError | anthropic.APIStatusError)
    return exc.status_code


def _provider_error(kind: WireFormat, status: int) -> bytes:
    if kind is WireFormat.GEMINI and status == 429:
        return GEMINI_429.read_bytes()  # recorded: RESOURCE_EXHAUSTED with a RetryInfo
    return payloads.error_body(kind, status)


async def _upstream_error(
    cell: Cell, stream: bool, status: int, headers: dict[str, str] | None = None
) -> Exception:
    body = _provider_error(cell.kind, status)
    fault = Fault(status=status, body=body, headers=headers or {})
    with pytest.raises(Exception) as info:  # noqa: PT011 (the class is checked per client below)
        await cell.run(t.Turn(stream=stream), fault)
    message = json.loads(body)["error"]["message"]
    assert message in str(info.value)  # the provider's own words reach the client
    assert cell.record().status == "failed"
    return info.value


def _retry_after(exc: Exception) -> str | None:
    response = getattr(exc, "response", None)
    assert response is not None
    value = response.headers.get("retry-after")
    return None if value is None else str(value)


async def rate_limited(cell: Cell, stream: bool) -> None:
    # Gemini says when to come back in its body (RetryInfo 34.4s), the others in a header
    gemini = cell.kind is WireFormat.GEMINI
    exc = await _upstream_error(cell, stream, 429, None if gemini else {"Retry-After": "7"})
    assert isinstance(exc, RATE_LIMIT[cell.client])
    assert _status(exc) == 429
    assert _retry_after(exc) == ("34" if gemini else "7")


async def bad_request(cell: Cell, stream: bool) -> None:
    exc = await _upstream_error(cell, stream, 400)
    assert isinstance(exc, BAD_REQUEST[cell.client])
    assert _status(exc) == 400
    assert cell.record().http_status == 400


async def server_error(cell: Cell, stream: bool) -> None:
    exc = await _upstream_error(cell, stream, 500)  # one member: nothing to fail over to
    assert isinstance(exc, STATUS_ERROR[cell.client])
    assert 500 <= _status(exc) < 600


def _cut_after_first_piece(kind: WireFormat) -> int:
    """Events up to and including the one carrying "alpha ": the client has content already."""
    events = replies_stream.events(kind, UPSTREAM_MODEL, TEXT)
    return next(i for i, event in enumerate(events) if b'"alpha ' in event) + 1


async def dropped(cell: Cell, stream: bool) -> None:
    cut = _cut_after_first_piece(cell.kind)
    # a JSON client still gets its answer built from a stream: the upstream is made to stream
    fault = Fault(reply=TEXT, drop_after=cut, force_sse=not stream)
    if not stream:
        with pytest.raises(STATUS_ERROR[cell.client]) as info:
            await cell.run(t.Turn(), fault)
        assert _status(info.value) == 502  # not committed yet: a plain gateway error
    elif cell.client == "responses":
        # the Responses SDK hands an in-band failure over as an event rather than raising
        answer = await cell.run(t.Turn(stream=True), fault)
        assert answer.error is not None
        assert "connection" in answer.error
    else:
        in_band = {
            "chat": openai.APIError,
            "anthropic": anthropic.APIError,
            "gemini": genai_errors.ServerError,
        }
        with pytest.raises(in_band[cell.client]) as raised:
            await cell.run(t.Turn(stream=True), fault)
        assert "connection" in str(raised.value)
    if stream:  # what came before the cut was delivered, and nothing after it
        assert cell.driver.last.text == "alpha "
    assert cell.record().status == "failed"


SCENARIOS: dict[str, Scenario] = {
    "upstream_429": rate_limited,
    "upstream_400": bad_request,
    "upstream_500": server_error,
    "mid_stream_drop": dropped,
}
test_cell = run_cells(SCENARIOS)
