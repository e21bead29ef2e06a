"""FakeUpstream: a real aiohttp server on 127.0.0.1 speaking the four provider protocols.

Channels point at `fake.base(tag, kind)`; requests are told apart by the tag in the path. Each
request takes the next scripted Fault for its tag (or the tag's `always` fault, or none) and
is recorded (tag, path, query, headers, body).
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict, deque
from dataclasses import dataclass, field

from aiohttp import web

from octopus.protocols import WireFormat
from tests.fakes import embeddings, payloads, replies, replies_stream

_SUFFIXES = {
    "/chat/completions": WireFormat.OPENAI_CHAT,
    "/responses": WireFormat.OPENAI_RESPONSES,
    "/messages": WireFormat.ANTHROPIC,
}


@dataclass
class Fault:
    status: int = 0  # answer with this error status (provider error body unless `body`)
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # before the response headers (slow first byte)
    event_delay: float = 0.0  # after the headers, before the first event
    gap: float = 0.0  # between events
    stall_after: int | None = None  # go silent for `stall` seconds after this many events
    stall: float = 0.0
    drop_after: int | None = None  # cut the connection after this many events
    malformed: bool = False  # the first event is not valid JSON
    first_event_error: bool = False  # the stream opens with an in-band error event
    huge_bytes: int = 0  # stream about this many bytes of content, generated lazily
    big_event: int = 0  # one event whose data has this many bytes
    pieces: list[str] | None = None  # the streamed text pieces
    force_sse: bool = False  # stream even when the request asked for a JSON answer
    force_json: bool = False  # answer JSON even when the request asked for a stream
    reply: replies.Reply | None = None  # a scripted answer (tools, reasoning...) instead of text
    wire: list[bytes] | None = None  # these exact bytes, one write each (joined when not streaming)
    wire_gap: float = 0.01  # seconds between two `wire` writes


@dataclass
class Received:
    tag: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, object]:
        doc = json.loads(self.body)
        assert isinstance(doc, dict)
        return doc


class FakeUpstream:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.scripts: dict[str, deque[Fault]] = defaultdict(deque)
        self.always: dict[str, Fault] = {}
        self.models: dict[str, list[str]] = {}
        self.sent: dict[str, bytes] = {}  # tag -> the last body bytes sent (non-huge)
        self.refused_keys: dict[str, int] = {}  # upstream key -> the status every call gets
        self.aborted: list[str] = []  # tags of streams the relay hung up on before their end
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> FakeUpstream:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def base(self, tag: str, kind: WireFormat) -> str:
        return f"{self.url}/{tag}/{'v1beta' if kind is WireFormat.GEMINI else 'v1'}"

    def script(self, tag: str, *faults: Fault) -> None:
        self.scripts[tag].extend(faults)

    def calls(self, tag: str | None = None) -> list[Received]:
        return [r for r in self.received if tag is None or r.tag == tag]

    def tags(self) -> list[str]:
        return [r.tag for r in self.received]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        tag, _, rest = request.path.lstrip("/").partition("/")
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.received.append(
            Received(tag, request.method, "/" + rest, request.query_string, headers, body)
        )
        refused = self.refused_keys.get(_key_of(headers))
        if refused:
            return web.json_response({"error": {"message": "key refused"}}, status=refused)
        fault = self.scripts[tag].popleft() if self.scripts[tag] else self.always.get(tag, Fault())
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if request.method == "GET" and rest.endswith("/models"):
            return self._models(tag, request, fault)
        if embeddings.is_embeddings(rest):
            answer = embeddings.reply(rest, body, fault.status, fault.headers, fault.body)
            assert isinstance(answer.body, bytes)
            self.sent[tag] = answer.body
            return answer
        return await self._generate(request, tag, rest, body, fault)

    async def _generate(
        self, request: web.Request, tag: str, rest: str, body: bytes, fault: Fault
    ) -> web.StreamResponse:
        try:
            kind, model, stream = self._parse(rest, body)
        except (ValueError, StopIteration):  # as a provider does: unreadable JSON is a 400
            return web.json_response({"error": {"message": "invalid JSON body"}}, status=400)
        if fault.status:
            data = fault.body if fault.body is not None else payloads.error_body(kind, fault.status)
            return web.Response(
                status=fault.status,
                body=data,
                headers={"Content-Type": "application/json", **fault.headers},
            )
        if (stream or fault.force_sse) and not fault.force_json:
            return await self._stream(request, tag, kind, model, fault)
        if fault.wire is not None:
            data = b"".join(fault.wire)
        elif fault.reply is not None:
            data = replies.body(kind, model, fault.reply)
        else:
            data = payloads.body(kind, model, tag)
        self.sent[tag] = data
        return web.Response(
            body=data,
            headers={
                "Content-Type": "application/json",
                "x-request-id": f"req-{tag}",
                **fault.headers,
            },
        )

    def _parse(self, rest: str, body: bytes) -> tuple[WireFormat, str, bool]:
        if ":" in rest:  # gemini: /v1beta/models/{model}:action
            model, _, action = rest.rpartition("/")[2].partition(":")
            return WireFormat.GEMINI, model, action.startswith("streamGenerateContent")
        kind = next(k for suffix, k in _SUFFIXES.items() if rest.endswith(suffix))
        doc = json.loads(body)
        return kind, str(doc.get("model", "")), bool(doc.get("stream"))

    async def _stream(
        self, request: web.Request, tag: str, kind: WireFormat, model: str, fault: Fault
    ) -> web.StreamResponse:
        resp = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "x-request-id": f"req-{tag}",
                **fault.headers,
            }
        )
        await resp.prepare(request)
        if fault.event_delay:
            await asyncio.sleep(fault.event_delay)
        if fault.huge_bytes:
            await self._huge(resp, model, fault.huge_bytes)
            return resp
        if fault.wire is not None:
            await self._wire(resp, tag, fault.wire, fault.wire_gap)
            return resp
        try:
            return await self._events_out(
                request, resp, tag, self._events(tag, kind, model, fault), fault
            )
        except (asyncio.CancelledError, ConnectionResetError):
            self.aborted.append(tag)
            raise

    async def _events_out(
        self,
        request: web.Request,
        resp: web.StreamResponse,
        tag: str,
        events: list[bytes],
        fault: Fault,
    ) -> web.StreamResponse:
        sent = bytearray()
        for index, event in enumerate(events):
            if fault.drop_after is not None and index >= fault.drop_after:
                assert request.transport is not None
                request.transport.close()
                self.sent[tag] = bytes(sent)
                return resp
            if fault.gap and index:
                await asyncio.sleep(fault.gap)
            if index == fault.stall_after:
                await asyncio.sleep(fault.stall)
            sent += event
            await resp.write(event)
        self.sent[tag] = bytes(sent)
        await resp.write_eof()
        return resp

    def _events(self, tag: str, kind: WireFormat, model: str, fault: Fault) -> list[bytes]:
        pieces = fault.pieces or ["hello", " from ", tag]
        if fault.reply is not None:
            events = replies_stream.events(kind, model, fault.reply)
        else:
            events = list(payloads.stream_events(kind, model, pieces))
        if fault.malformed:
            events.insert(0, b"data: {this is not json\n\n")
        if fault.first_event_error:
            events.insert(0, payloads.error_event(kind))
        if fault.big_event:
            events.insert(len(events) // 2, b"data: " + b"x" * fault.big_event + b"\n\n")
        return events

    async def _wire(
        self, resp: web.StreamResponse, tag: str, writes: list[bytes], gap: float
    ) -> None:
        """Each piece in a write of its own, a moment apart, so the relay reads them apart too."""
        for index, piece in enumerate(writes):
            if index and gap:
                await asyncio.sleep(gap)
            await resp.write(piece)
        self.sent[tag] = b"".join(writes)
        await resp.write_eof()

    async def _huge(self, resp: web.StreamResponse, model: str, total: int) -> None:
        """OpenAI chat chunks with ~1 KiB of text each, written in 64 KiB batches as generated."""
        piece = "y" * 1024
        event = payloads.sse(payloads._chunk(model, {"content": piece}))
        batch = event * max(1, 65536 // len(event))
        written = 0
        await resp.write(payloads.sse(payloads._chunk(model, {"role": "assistant", "content": ""})))
        while written < total:
            await resp.write(batch)
            written += len(batch)
        for tail in list(payloads.stream_events(WireFormat.OPENAI_CHAT, model, []))[1:]:
            await resp.write(tail)
        await resp.write_eof()

    def _models(self, tag: str, request: web.Request, fault: Fault) -> web.Response:
        if fault.status:
            data = fault.body or payloads.error_body(WireFormat.OPENAI_CHAT, fault.status)
            return web.Response(status=fault.status, body=data, content_type="application/json")
        names = self.models.get(tag, [])
        if request.path.split("/")[2] == "v1beta":
            return web.json_response(_gemini_page(names, request.query.get("pageToken")))
        if "x-api-key" in request.headers:
            return web.json_response(_anthropic_page(names, request.query.get("after_id")))
        return web.json_response(
            {"object": "list", "data": [{"id": n, "object": "model"} for n in names]}
        )


PAGE = 2


def _key_of(headers: dict[str, str]) -> str:
    bearer = headers.get("authorization", "")
    return bearer[7:] if bearer.startswith("Bearer ") else headers.get("x-api-key", "")


def _anthropic_page(names: list[str], after: str | None) -> dict[str, object]:
    start = names.index(after) + 1 if after else 0
    page = names[start : start + PAGE]
    return {
        "data": [{"type": "model", "id": n, "display_name": n} for n in page],
        "has_more": start + PAGE < len(names),
        "first_id": page[0] if page else None,
        "last_id": page[-1] if page else None,
    }


def _gemini_page(names: list[str], token: str | None) -> dict[str, object]:
    start = int(token) if token else 0
    page = names[start : start + PAGE]
    doc: dict[str, object] = {"models": [{"name": f"models/{n}"} for n in page]}
    if start + PAGE < len(names):
        doc["nextPageToken"] = str(start + PAGE)
    return doc
