"""jsonio's defect mapping: every way a body is unreadable becomes the caller's error, phrased."""

from __future__ import annotations

import msgspec
import pytest

from octopus.errors import BadRequest, UpstreamProtocol
from octopus.protocols import jsonio

DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    ("body", "kind", "client", "upstream"),
    [
        (b'{"a":', dict, "malformed JSON in body: ", "unreadable body from upstream: "),
        (b"[1]", dict, "invalid body: Expected `object`", "unreadable body from upstream: "),
        (b'"\xff"', str, "body is not valid UTF-8", "body from upstream is not valid UTF-8"),
        (DEEP, list, "body is nested too deeply", "body from upstream is nested too deeply"),
    ],
)
def test_each_defect_becomes_the_callers_error(
    body: bytes, kind: type, client: str, upstream: str
) -> None:
    with pytest.raises(BadRequest) as bad:
        jsonio.client_body(body, kind, "body")
    assert bad.value.message.startswith(client)
    assert bad.value.__suppress_context__  # the decoder's own error never reaches a log
    with pytest.raises(UpstreamProtocol) as unreadable:
        jsonio.upstream_body(body, kind, "body")
    assert unreadable.value.message.startswith(upstream)


def test_other_exceptions_pass_and_good_bodies_decode() -> None:
    with pytest.raises(KeyError), jsonio.client_errors("body"):
        raise KeyError("not a decoding defect")
    assert jsonio.client_body(b'{"a":1}', dict, "body") == {"a": 1}
    assert jsonio.upstream_body(b"[1]", list, "body") == [1]


def test_a_long_detail_is_cut() -> None:
    with pytest.raises(BadRequest) as bad, jsonio.client_errors("body"):
        raise msgspec.DecodeError("x" * 1000)
    assert len(bad.value.message) < 400
    assert bad.value.message.endswith("…")
