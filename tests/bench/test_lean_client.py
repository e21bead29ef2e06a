"""The load client's check of a streamed answer: every `tokN ` text, in order, whatever events
carry them (a gateway may join the texts of events it read together into one event)."""

from __future__ import annotations

import lean_client as lc


def _answer(body: bytes) -> lc.Answer:
    return lc.Answer(status=200, body=bytearray(body))


def test_texts_are_counted_not_the_events_carrying_them() -> None:
    call = lc.openai_call("k", "m", 3, 0)
    one_each = b"".join(b'data: {"content":"tok%d "}\n\n' % i for i in range(3))
    joined = b'data: {"content":"tok0 tok1 tok2 "}\n\n'
    usage = b'data: {"usage":{"completion_tokens":3,"total_tokens":9}}\n\n'
    for body in (one_each, joined):
        assert _answer(body + usage + call.end).ok(call)


def test_a_missing_repeated_or_reordered_text_fails() -> None:
    call = lc.openai_call("k", "m", 3, 0)
    for texts in (b"tok0 tok2 ", b"tok0 tok1 tok1 tok2 ", b"tok1 tok0 tok2 "):
        body = b'data: {"content":"' + texts + b'"}\n\n' + call.end
        assert not _answer(body).ok(call)


def test_a_text_cut_by_a_chunk_boundary_is_counted_in_the_payload() -> None:
    """nginx re-chunks what it buffered: a boundary may fall inside `tok1 `."""
    call = lc.openai_call("k", "m", 3, 0)
    payload = b'data: {"content":"tok0 tok1 tok2 "}\n\n' + call.end
    cut = payload.index(b"ok1") + 1
    framed = b"".join(b"%x\r\n%b\r\n" % (len(p), p) for p in (payload[:cut], payload[cut:]))
    answer = lc.Answer(status=200, body=bytearray(framed + b"0\r\n\r\n"), chunked=True)
    assert answer.ok(call)
    assert lc.dechunked(framed) == payload
    broken = lc.Answer(status=200, body=bytearray(b"zz\r\n" + payload), chunked=True)
    assert not broken.ok(call)
