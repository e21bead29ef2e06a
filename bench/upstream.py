"""A fast fake OpenAI upstream for the relay benchmark (raw asyncio protocol on uvloop).

POST /v1/chat/completions answers a small JSON body with usage, or, when the request body says
`"stream": true`, 100 SSE chunks + a usage chunk + `data: [DONE]`, each chunk its own write.
Run: `python bench/upstream.py --port N [--chunks 100] [--chunk-delay-ms 0]`.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
from typing import cast

import orjson
import shapes
import uvloop

STREAM_RE = re.compile(rb'"stream"\s*:\s*true')
LENGTH_RE = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)
CHUNKED_RE = re.compile(rb"\r\ntransfer-encoding:\s*chunked", re.IGNORECASE)
CLOSE_RE = re.compile(rb"\r\nconnection:\s*close", re.IGNORECASE)
MODEL = "bench-model"
USAGE = {"prompt_tokens": 12, "completion_tokens": 100, "total_tokens": 112}


def _completion() -> bytes:
    return orjson.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1700000000,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Hello from the bench upstream."},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
        }
    )


def _chunk(delta: dict[str, str], finish: str | None = None) -> dict[str, object]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _stream_events(count: int) -> list[bytes]:
    """The SSE events, each framed as one HTTP/1.1 chunk."""
    payloads = [_chunk({"role": "assistant", "content": "tok0 "})]
    payloads += [_chunk({"content": f"tok{i} "}) for i in range(1, count - 1)]
    payloads.append(_chunk({}, "stop"))
    usage = {**_chunk({}), "choices": [], "usage": USAGE}
    events = [b"data: " + orjson.dumps(p) + b"\n\n" for p in [*payloads, usage]]
    events.append(b"data: [DONE]\n\n")
    return [b"%x\r\n%s\r\n" % (len(e), e) for e in events]


def _head(status: str, headers: str) -> bytes:
    return f"HTTP/1.1 {status}\r\n{headers}\r\n".encode()


END = b"0\r\n\r\n"
_FORMATS = (
    (b"POST /v1/chat/completions ", shapes.openai),
    (b"POST /v1/messages ", shapes.anthropic),
    (b"POST /v1beta/models/", shapes.gemini),
)


class _Paced:
    """Writes one paced stream from timer callbacks (no task per stream: cheap at 5,000 streams)."""

    __slots__ = ("framed", "head", "index", "loop", "pace", "proto", "start")

    def __init__(
        self, proto: UpstreamProtocol, head: bytes, framed: shapes.Framed, pace: float
    ) -> None:
        self.proto, self.head, self.framed, self.pace = proto, head, framed, pace
        self.loop = asyncio.get_running_loop()
        self.start = self.loop.time()
        self.index = 0

    def arm(self) -> None:
        self.loop.call_at(self.start + (self.index + 1) * self.pace, self.step)

    def step(self) -> None:
        transport = self.proto.transport
        if transport is None or transport.is_closing():
            return
        content = self.framed.content
        if self.index < len(content) - 1:
            transport.write(content[self.index])
            self.index += 1
            self.arm()
            return
        transport.write(content[-1] + self.framed.closing)
        self.proto.paced_done(self.head)


def _shaped_stream(head: bytes, body: bytes) -> tuple[shapes.Framed, shapes.Shape] | None:
    """The stream a `bench:` marker asks for (None: a plain answer)."""
    shape = shapes.shape_of(body)
    if shape is None:
        return None
    for prefix, build in _FORMATS:
        if head.startswith(prefix):
            gemini = prefix.startswith(b"POST /v1beta")
            if gemini and b":streamGenerateContent" not in head:
                return None
            if not gemini and not STREAM_RE.search(body):
                return None
            return shapes.framed(build, shape.events), shape
    return None


class Answers:
    """Pre-encoded responses (built once)."""

    def __init__(self, chunks: int) -> None:
        body = _completion()
        self.json = (
            _head("200 OK", f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n")
            + body
        )
        self.stream_head = _head(
            "200 OK",
            "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            "Transfer-Encoding: chunked\r\n",
        )
        self.stream_events = _stream_events(chunks)
        missing = b'{"error":{"message":"not found","type":"invalid_request_error"}}'
        self.not_found = (
            _head(
                "404 Not Found",
                f"Content-Type: application/json\r\nContent-Length: {len(missing)}\r\n",
            )
            + missing
        )


class UpstreamProtocol(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; requests are answered in order."""

    def __init__(self, answers: Answers, delay: float) -> None:
        self.answers = answers
        self.delay = delay
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.busy: asyncio.Task[None] | None = None
        self.paced = False  # a `bench:` stream is being written by callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's TCPTransport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.busy is None and not self.paced:
            self._drain()

    def _drain(self) -> None:
        while self.transport is not None and not self.transport.is_closing():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end])
            if CHUNKED_RE.search(head):  # clients here always send Content-Length
                self.transport.write(self.answers.not_found)
                self.transport.close()
                return
            match = LENGTH_RE.search(head)
            length = int(match.group(1)) if match else 0
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            if not self._answer(head, body):
                return

    def _answer(self, head: bytes, body: bytes) -> bool:
        """Write one answer; False when the answer continues asynchronously."""
        assert self.transport is not None
        shaped = _shaped_stream(head, body)
        if shaped is not None:
            self.paced = True
            if self._shaped(head, *shaped):
                self.paced = False
                return True
            return False
        if not head.startswith(b"POST /v1/chat/completions "):
            self.transport.write(self.answers.not_found)
        elif not STREAM_RE.search(body):
            self.transport.write(self.answers.json)
        elif self.delay > 0:
            self.busy = asyncio.get_running_loop().create_task(self._paced(head))
            return False
        else:
            self.transport.write(self.answers.stream_head)
            for event in self.answers.stream_events:
                self.transport.write(event)
            self.transport.write(b"0\r\n\r\n")
        if CLOSE_RE.search(head):
            self.transport.close()
        return True

    async def _paced(self, head: bytes) -> None:
        assert self.transport is not None
        self.transport.write(self.answers.stream_head)
        for event in self.answers.stream_events:
            await asyncio.sleep(self.delay)
            if self.transport.is_closing():
                return
            self.transport.write(event)
        self.transport.write(b"0\r\n\r\n")
        if CLOSE_RE.search(head):
            self.transport.close()
        self.busy = None
        self._drain()

    def _shaped(self, head: bytes, framed: shapes.Framed, shape: shapes.Shape) -> bool:
        """A `bench:` stream: preamble with the headers, then paced (or one-write) events."""
        assert self.transport is not None
        if shape.burst or shape.pace <= 0:
            if shape.burst:
                self.transport.write(self.answers.stream_head + b"".join(framed.all_at_once))
            else:
                self.transport.write(self.answers.stream_head + framed.preamble)
                for event in framed.events:
                    self.transport.write(event)
            return self._done(head)
        self.transport.write(self.answers.stream_head + framed.preamble)
        _Paced(self, head, framed, shape.pace).arm()
        return False

    def _done(self, head: bytes) -> bool:
        if CLOSE_RE.search(head) and self.transport is not None:
            self.transport.close()
        return True

    def paced_done(self, head: bytes) -> None:
        self._done(head)
        self.paced = False
        self._drain()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.busy is not None:
            self.busy.cancel()


async def serve(port: int, chunks: int, delay_ms: float) -> None:
    loop = asyncio.get_running_loop()
    answers = Answers(chunks)
    server = await loop.create_server(
        lambda: UpstreamProtocol(answers, delay_ms / 1000),
        "127.0.0.1",
        port,
        backlog=4096,
        reuse_address=True,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--chunks", type=int, default=100, help="content chunks per stream")
    parser.add_argument("--chunk-delay-ms", type=float, default=0.0)
    args = parser.parse_args()
    uvloop.run(serve(args.port, args.chunks, args.chunk_delay_ms))


if __name__ == "__main__":
    main()
