"""Non-canonical upstream bytes: what real providers may send but our canned payloads never do.

JSON with spaces, reversed key order, `\\u00e9` escapes, a `1.0e2` number and CRLF between lines;
SSE with CRLF, CR-only and LF line endings, `data:` without the space, `id:` lines, comments,
a last event without its blank line, all cut into writes at awkward places (inside a UTF-8
sequence, between CR and LF, inside a field name). A relay that re-encodes or re-frames any of it
no longer returns the same bytes.
"""

from __future__ import annotations

import itertools
import json

from octopus.protocols import WireFormat
from tests.fakes import payloads

PIECES = ["h\u00e9llo", " w\u00f6rld ", "\U0001f600 ", "na\u00efve"]  # non-ASCII on purpose
TEXT = "".join(PIECES)
_EOL = (b"\r\n", b"\n", b"\r")


def _reversed(doc: object) -> object:
    """The same JSON value with every object's keys in reverse order."""
    if isinstance(doc, dict):
        return {k: _reversed(v) for k, v in reversed(list(doc.items()))}
    if isinstance(doc, list):
        return [_reversed(v) for v in doc]
    return doc


def _swap_text(doc: object, old: str, new: str) -> object:
    if isinstance(doc, dict):
        return {k: _swap_text(v, old, new) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_swap_text(v, old, new) for v in doc]
    return new if doc == old else doc


def odd_json(doc: object, *, ascii_only: bool = True, indent: int | None = None) -> bytes:
    """Valid JSON no canonical encoder writes: spaced, reversed keys, escapes, `1.0e2`."""
    text = json.dumps(
        _reversed(doc), ensure_ascii=ascii_only, indent=indent, separators=(" ,", " : ")
    )
    assert text.endswith("}")
    text = text.replace("\u00e9", "\\u00e9")  # e-acute always escaped, other letters raw or not
    return (text[:-1] + ' , "x_score" : 1.0e2 }').encode()


def body(kind: WireFormat, model: str, tag: str) -> bytes:
    """A non-stream answer (text TEXT, usage 11/7) pretty-printed with CRLF line breaks."""
    doc = _swap_text(json.loads(payloads.body(kind, model, tag)), payloads.text_for(tag), TEXT)
    return odd_json(doc, indent=1).replace(b"\n", b"\r\n")


def _frame(index: int, event: bytes) -> bytes:
    """Re-frame one canonical `event: X\\ndata: {...}\\n\\n` event in the index-th odd way."""
    lines = event.rstrip(b"\n").split(b"\n")
    name = next((line[7:] for line in lines if line.startswith(b"event: ")), b"")
    data = next(line[6:] for line in lines if line.startswith(b"data: "))
    if data.startswith(b"{"):
        data = odd_json(json.loads(data), ascii_only=index % 2 == 1)
    style = index % 4
    eol = _EOL[index % len(_EOL)]
    out: list[bytes] = []
    if style == 0:
        out.append(b": upstream comment " + str(index).encode())
    if style in (1, 3):
        out.append(b"id: " + str(index).encode())
    if name:
        out.append((b"event:" if style == 1 else b"event: ") + name)
    if style == 2 and data.startswith(b"{"):  # one event's data spread over two data lines
        out += [b"data: " + data[:1], b"data:" + data[1:]]
    else:
        out.append((b"data:" if style == 1 else b"data: ") + data)
    return eol.join(out) + eol + eol


def stream(kind: WireFormat, model: str) -> list[bytes]:
    """A streamed answer of text TEXT (usage 11/7) as the list of writes to send."""
    events = list(payloads.stream_events(kind, model, PIECES))
    framed = b"".join(_frame(i, e) for i, e in enumerate(events))
    framed = framed[: -len(_EOL[(len(events) - 1) % len(_EOL)])]  # last event: no blank line
    return _cut(framed)


def _cut(data: bytes) -> list[bytes]:
    """Split the bytes inside a UTF-8 sequence, between CR and LF, and inside `data:`."""
    cuts = {len(data) // 3, len(data) // 2}
    for mark, offset in ((b"\xc3", 1), (b"\xf0\x9f", 2), (b"\r\n", 1), (b"data:", 2)):
        at = data.find(mark)
        if at >= 0:
            cuts.add(at + offset)
    edges = [0, *sorted(c for c in cuts if 0 < c < len(data)), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges) if b > a]
