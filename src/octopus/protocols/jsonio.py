"""JSON in and out: bad client bodies raise BadRequest, bad upstream ones UpstreamProtocol.

Every way a body can be unreadable is caught here, once: malformed or mistyped JSON, nesting
deeper than the decoder's recursion allows, and strings that are not UTF-8.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from octopus.errors import BadRequest, GatewayError, UpstreamProtocol

encode = msgspec.json.encode

T = TypeVar("T")
TopLevel = dict[str, msgspec.Raw]  # an object whose values stay raw: cost grows with its keys

_MAX_DETAIL = 300
_top = msgspec.json.Decoder(TopLevel)


_Phrases = tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...]


class _Defects:
    """A context manager that turns a decoding defect into the caller's error (a plain class:
    a generator-based one costs a generator per request)."""

    __slots__ = ("what",)
    error: type[GatewayError]
    phrases: _Phrases  # (defect, message with {what} and {detail}), the first match wins

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _: Any) -> None:
        if exc is None:
            return
        for defect, phrase in self.phrases:
            if isinstance(exc, defect):
                detail = _short(exc) if "{detail}" in phrase else ""
                raise self.error(phrase.format(what=self.what, detail=detail)) from None


class client_errors(_Defects):  # noqa: N801 - a context manager, named like contextlib's
    """Any defect in decoding a client's `what` becomes a BadRequest naming it."""

    __slots__ = ()
    error = BadRequest
    phrases: _Phrases = (
        (msgspec.ValidationError, "invalid {what}: {detail}"),
        (msgspec.DecodeError, "malformed JSON in {what}: {detail}"),
        (RecursionError, "{what} is nested too deeply"),
        (UnicodeDecodeError, "{what} is not valid UTF-8"),
    )


class upstream_errors(_Defects):  # noqa: N801 - a context manager, named like contextlib's
    """Any defect in decoding a provider's `what` becomes UpstreamProtocol (fails over)."""

    __slots__ = ()
    error = UpstreamProtocol
    phrases: _Phrases = (
        (
            (msgspec.ValidationError, msgspec.DecodeError),
            "unreadable {what} from upstream: {detail}",
        ),
        (RecursionError, "{what} from upstream is nested too deeply"),
        (UnicodeDecodeError, "{what} from upstream is not valid UTF-8"),
    )


def client_body(body: bytes, kind: type[T], what: str) -> T:
    """Decode a client's body; any defect becomes a BadRequest naming the field at fault."""
    with client_errors(what):
        return msgspec.json.decode(body, type=kind)


def upstream_body(body: bytes, kind: type[T], what: str) -> T:
    """Decode a provider's body; anything unreadable becomes UpstreamProtocol (retryable)."""
    with upstream_errors(what):
        return msgspec.json.decode(body, type=kind)


def decode_or_none(decoder: msgspec.json.Decoder[T], data: bytes) -> T | None:
    """`data` decoded, or None when it is unreadable in any of the ways above (a tap that
    only watches a relayed stream must never break it)."""
    try:
        return decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        return None


def top_level(body: bytes) -> TopLevel:
    """The top level of a body already known to be an object (raises msgspec's errors)."""
    return _top.decode(body)


def loads_or_none(data: bytes | str) -> Any:
    """Best-effort parse (error bodies, tool arguments); None when it is not JSON."""
    try:
        return msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        return None


def object_or_empty(arguments: str) -> dict[str, Any]:
    """Tool-call arguments as an object, as Anthropic and Gemini want them."""
    value = loads_or_none(arguments) if arguments.strip() else {}
    return value if isinstance(value, dict) else {}


def raw_extras(body: bytes, consumed: frozenset[str]) -> dict[str, msgspec.Raw]:
    """Top-level keys a decoder did not map (call after the body decoded as an object)."""
    top = top_level(body)
    return {k: v for k, v in top.items() if k not in consumed}


def merge_extras(out: dict[str, Any], extras: dict[str, msgspec.Raw]) -> None:
    for key, value in extras.items():
        out.setdefault(key, value)


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= _MAX_DETAIL else text[:_MAX_DETAIL] + "…"


class Slot:
    """The JSON of a fixed envelope with its varying values left open: filled per stream event
    by encoding only those values (the same bytes as encoding the whole envelope each time).

    An envelope whose other values hold a marker themselves (an upstream id could) cannot be
    cut: `around` then gives a `WholeSlot`, which encodes the whole envelope on every fill.
    """

    __slots__ = ("_parts", "_wire")

    MARKS = (  # placeholders no real value holds
        "\x00octopus-slot-0\x00",
        "\x00octopus-slot-1\x00",
    )
    cut = True  # False: every fill encodes the whole envelope

    def __init__(self, parts: tuple[bytes, ...], frame: tuple[bytes, bytes] = (b"", b"")) -> None:
        self._parts = parts
        # the same parts inside the frame of an SSE event: the event's wire bytes in one fill
        self._wire = (frame[0] + parts[0], *parts[1:-1], parts[-1] + frame[1]) if parts else ()

    @classmethod
    def around(
        cls,
        envelope: Callable[..., object],
        holes: int = 1,
        frame: tuple[bytes, bytes] = (b"", b""),
    ) -> Slot:
        """`envelope(*values)` builds the object around `holes` values, in the order they are
        encoded; `frame`: what the `*_wire` fills put around it (sse.framing)."""
        rest, parts = encode(envelope(*cls.MARKS[:holes])), []
        for mark in cls.MARKS[:holes]:
            encoded = encode(mark)
            head, found, rest = rest.partition(encoded)
            if not found or rest.find(encoded) >= 0:
                return WholeSlot(envelope, frame)
            parts.append(head)
        return cls((*parts, rest), frame)

    def fill(self, text: str) -> bytes:
        """The one-hole envelope around `text`."""
        head, tail = self._parts
        return head + encode(text) + tail

    def fill_pair(self, first: object, second: object) -> bytes:
        """The two-hole envelope around `first` and `second`."""
        head, middle, tail = self._parts
        return b"".join((head, encode(first), middle, encode(second), tail))

    def fill_wire(self, text: str) -> bytes:
        """`fill(text)` inside the frame."""
        head, tail = self._wire
        return head + encode(text) + tail

    def wire_frame(self) -> tuple[bytes, bytes] | None:
        """What `fill_wire` puts around the encoded text (None: it encodes the whole envelope)."""
        return self._wire if self.cut and len(self._wire) == 2 else None

    def fill_pair_wire(self, first: object, second: object) -> bytes:
        """`fill_pair(first, second)` inside the frame."""
        head, middle, tail = self._wire
        return b"".join((head, encode(first), middle, encode(second), tail))


class WholeSlot(Slot):
    """A slot over an envelope that could not be cut (it holds the envelope: a reference cycle
    for the collector when the envelope is a bound method, only on such hostile streams)."""

    __slots__ = ("_envelope",)
    cut = False

    def __init__(
        self, envelope: Callable[..., object], frame: tuple[bytes, bytes] = (b"", b"")
    ) -> None:
        super().__init__(())
        self._envelope = envelope
        self._wire = frame

    def fill(self, text: str) -> bytes:
        return encode(self._envelope(text))

    def fill_pair(self, first: object, second: object) -> bytes:
        return encode(self._envelope(first, second))

    def fill_wire(self, text: str) -> bytes:
        head, tail = self._wire
        return head + self.fill(text) + tail

    def fill_pair_wire(self, first: object, second: object) -> bytes:
        head, tail = self._wire
        return head + self.fill_pair(first, second) + tail
