"""FakeHttp: a loopback aiohttp server answering every path with a scripted response."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web


@dataclass
class Seen:
    method: str
    url: str
    host: str
    headers: dict[str, str]


@dataclass
class FakeHttp:
    status: int = 200
    body: bytes = b"{}"
    content_type: str = "application/json"
    seen: list[Seen] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    def answer(self, doc: Any, status: int = 200) -> None:
        self.status, self.body = status, orjson.dumps(doc)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeHttp:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        self.seen.append(
            Seen(request.method, str(request.url), request.host, dict(request.headers))
        )
        return web.Response(status=self.status, body=self.body, content_type=self.content_type)
