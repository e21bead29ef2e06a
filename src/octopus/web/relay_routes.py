"""RelayApp: the client API as one raw ASGI callable (no framework on the hot path).

    POST /v1/chat/completions            OpenAI Chat Completions
    POST /v1/responses                   OpenAI Responses
    POST /v1/messages[?beta=true]        Anthropic Messages
    POST /v1/messages/count_tokens       Anthropic token count (estimate)
    POST /v1/embeddings                  OpenAI embeddings
    POST /v1beta/models/{m}:generateContent | :streamGenerateContent[?alt=sse] | :countTokens
         | :embedContent | :batchEmbedContents
         (also under /v1/models/: google-genai's default API version is v1)
    GET  /v1/models, /v1/models/{id}     OpenAI shape (Anthropic's when anthropic-version or
                                         x-api-key is sent)
    GET  /v1beta/models, /v1beta/models/{m}   Gemini shape

Keys are accepted as `Authorization: Bearer`, `x-api-key`, `x-goog-api-key` or `?key=`.
"""

from __future__ import annotations

import asyncio
import logging

import orjson

from octopus.errors import BadRequest, GatewayError, ModelNotFound
from octopus.protocols import WireFormat
from octopus.relay.context import ClientRequest, Operation
from octopus.relay.service import RelayService
from octopus.web import relay_models as models
from octopus.web.direct import direct_body
from octopus.web.relay_asgi import (
    AsgiResponder,
    DisconnectWatch,
    Inbound,
    Receive,
    Scope,
    Send,
    WebResponder,
    api_key_of,
    inbound_of,
    read_body,
)
from octopus.web.relay_errors import render_error

log = logging.getLogger("octopus.relay")

_GENERATE = {
    "/v1/chat/completions": WireFormat.OPENAI_CHAT,
    "/v1/responses": WireFormat.OPENAI_RESPONSES,
    "/v1/messages": WireFormat.ANTHROPIC,
}
_GEMINI_PREFIXES = ("/v1beta/models/", "/v1/models/")
_GEMINI_ACTIONS = {"generateContent": False, "streamGenerateContent": True}
_GEMINI_EMBED = {"embedContent": Operation.EMBED, "batchEmbedContents": Operation.BATCH_EMBED}


class RelayApp:
    def __init__(self, service: RelayService) -> None:
        self.service = service
        self.max_body_size = service.limits.max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        await self.serve(inbound_of(scope, receive), AsgiResponder(send, direct_body(scope)))

    async def serve(self, inbound: Inbound, responder: WebResponder) -> None:
        """One client request, from whichever server parsed it (ASGI, or web/native.py)."""
        path = inbound.path.rstrip("/") or "/"
        method = inbound.method
        fmt = _GENERATE.get(path)
        if fmt is not None and method == "POST":
            await self._generate(inbound, responder, fmt, None)
        elif path == "/v1/embeddings" and method == "POST":
            await self._generate(inbound, responder, WireFormat.OPENAI_CHAT, None, Operation.EMBED)
        elif path.startswith(_GEMINI_PREFIXES) and ":" in path and method == "POST":
            await self._gemini(inbound, responder, path)
        elif path == "/v1/messages/count_tokens" and method == "POST":
            await self._count_tokens(inbound, responder)
        elif method in ("GET", "HEAD") and (
            path in ("/v1/models", "/v1beta/models") or _one_model(path)
        ):
            await self._models(inbound, responder, path)
        else:
            fmt = WireFormat.GEMINI if path.startswith("/v1beta/") else WireFormat.OPENAI_CHAT
            err = ModelNotFound(f"no route for {method} {path}")
            await _send_error(responder, fmt, err)

    async def _gemini(self, inbound: Inbound, responder: WebResponder, path: str) -> None:
        model, _, action = path.split("/models/", 1)[1].rpartition(":")
        if action == "countTokens":
            await self._count_tokens(inbound, responder, gemini=True)
        elif action in _GEMINI_ACTIONS and model:
            stream = _GEMINI_ACTIONS[action]
            await self._generate(inbound, responder, WireFormat.GEMINI, (model, stream))
        elif action in _GEMINI_EMBED and model:
            operation = _GEMINI_EMBED[action]
            await self._generate(inbound, responder, WireFormat.GEMINI, (model, False), operation)
        else:
            await _send_error(responder, WireFormat.GEMINI, ModelNotFound(f"no route for {path}"))

    async def _generate(
        self,
        inbound: Inbound,
        responder: WebResponder,
        fmt: WireFormat,
        gemini: tuple[str, bool] | None,
        operation: Operation = Operation.GENERATE,
    ) -> None:
        headers = inbound.headers
        raw_key = api_key_of(headers, inbound.query)
        try:
            key = self.service.authenticate(raw_key)  # nothing is read for an unknown caller
            body = await read_body(inbound.receive, headers, self.max_body_size)
        except asyncio.CancelledError:
            return  # the client left while sending
        except GatewayError as err:
            await _send_error(responder, fmt, err, unread_body=True)
            return
        request = ClientRequest(
            fmt,
            body,
            raw_key,
            headers,
            path_model=gemini[0] if gemini else None,
            path_stream=gemini[1] if gemini else None,
            key=key,
            operation=operation,
        )
        await self._run(request, inbound.receive, responder)

    async def _run(self, request: ClientRequest, receive: Receive, responder: WebResponder) -> None:
        with DisconnectWatch(receive, responder) as watch:
            try:
                await self.service.handle(request, responder)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not watch.fired or task is None:
                    raise
                task.uncancel()
            except Exception:
                log.exception("relay failed on %s request", request.format.value)
                if not responder.started:
                    await _send_error(responder, request.format, GatewayError("internal error"))
                elif not responder.finished:
                    await responder.end()

    async def _models(self, inbound: Inbound, responder: WebResponder, path: str) -> None:
        headers, query = inbound.headers, inbound.query
        fmt = models.listing_format(path, headers, query)
        try:
            key = self.service.authenticate(api_key_of(headers, query))
            names = models.visible_models(self.service.catalog(), key)
            if path in ("/v1/models", "/v1beta/models"):
                body = models.list_body(fmt, names)
            else:
                body = models.one_body(fmt, path.rsplit("/", 1)[1], names)
        except GatewayError as err:
            await _send_error(responder, fmt, err)
            return
        await responder.json(200, body)

    async def _count_tokens(
        self, inbound: Inbound, responder: WebResponder, *, gemini: bool = False
    ) -> None:
        headers = inbound.headers
        fmt = WireFormat.GEMINI if gemini else WireFormat.ANTHROPIC
        try:
            self.service.authenticate(api_key_of(headers, inbound.query))
            body = await read_body(inbound.receive, headers, self.max_body_size)
        except asyncio.CancelledError:
            return
        except GatewayError as err:
            await _send_error(responder, fmt, err, unread_body=True)
            return
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            await _send_error(responder, fmt, BadRequest(f"malformed JSON in request body: {exc}"))
            return
        estimate = models.count_tokens_body(body)
        if gemini:
            estimate = estimate.replace(b'"input_tokens"', b'"totalTokens"')
        await responder.json(200, estimate)


def _one_model(path: str) -> bool:
    for prefix in ("/v1/models/", "/v1beta/models/"):
        if path.startswith(prefix) and ":" not in path and len(path) > len(prefix):
            return True
    return False


async def _send_error(
    responder: WebResponder, fmt: WireFormat, err: GatewayError, *, unread_body: bool = False
) -> None:
    status, headers, body = render_error(fmt, err)
    if unread_body:  # closing stops a refused upload instead of draining it
        headers.append(("connection", "close"))
    await responder.start(status, headers)
    await responder.end(body)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
