"""Transport over aiohttp: a pooled ClientSession per proxy URL; library errors translated here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager

import aiohttp
import aiohttp_socks

from octopus.errors import UpstreamConnect, UpstreamError, UpstreamProtocol, UpstreamTimeout
from octopus.upstream.transport import Headers, Sink, UpstreamRequest, find_header, scrub

POOL_LIMIT = 1000
KEEPALIVE_SECONDS = 60.0
_DIRECT = ""
_SOCKS_SCHEMES = ("socks4://", "socks5://", "socks5h://", "socks://")


class AiohttpResponse:
    __slots__ = ("_closed", "_resp", "_secrets", "_timeout", "headers", "status")

    def __init__(self, resp: aiohttp.ClientResponse, request: UpstreamRequest) -> None:
        self._resp = resp
        self._secrets = request.secrets
        self._timeout = request.read_timeout
        self._closed = False
        self.status: int = resp.status
        self.headers: Headers = tuple(resp.headers.items())

    def header(self, name: str) -> str | None:
        return find_header(self.headers, name)

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        with translate_errors(self._secrets, "reading the response"):
            async for chunk in self._resp.content.iter_any():
                yield chunk

    async def push(self, sink: Sink) -> bool:
        with translate_errors(self._secrets, "reading the response"):
            async for chunk in self._resp.content.iter_any():
                if sink(chunk):
                    return False
        return True

    async def read(self, limit: int | None = None) -> bytes:
        parts: list[bytes] = []
        size = 0
        async for chunk in self.aiter_bytes():
            size += len(chunk)
            if limit is not None and size > limit:
                raise UpstreamProtocol(f"upstream response body exceeded {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._resp.release() if self._resp.content.at_eof() else self._resp.close()


class AiohttpTransport:
    """Sessions are created lazily per proxy URL ("" = direct) and live until `aclose`."""

    def __init__(
        self,
        *,
        pool_limit: int = POOL_LIMIT,
        connector_factory: Callable[[str], aiohttp.BaseConnector] | None = None,
    ) -> None:
        self._pool_limit = pool_limit
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self._connector_factory = connector_factory or self._connector

    async def send(self, request: UpstreamRequest) -> AiohttpResponse:
        proxy = request.proxy_url or _DIRECT
        session = self._session(proxy)
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=request.connect_timeout,
            sock_connect=request.connect_timeout,
            sock_read=request.read_timeout,
        )
        http_proxy = proxy if proxy and not proxy.startswith(_SOCKS_SCHEMES) else None
        with translate_errors(request.secrets, "connecting"):
            resp = await session.request(
                request.method,
                request.url,
                headers=list(request.headers),
                data=request.body or None,
                timeout=timeout,
                proxy=http_proxy,
                allow_redirects=False,
            )
        return AiohttpResponse(resp, request)

    async def aclose(self) -> None:
        sessions, self._sessions = self._sessions, {}
        for session in sessions.values():
            await session.close()

    def _session(self, proxy: str) -> aiohttp.ClientSession:
        session = self._sessions.get(proxy)
        if session is None or session.closed:
            session = aiohttp.ClientSession(
                connector=self._connector_factory(proxy),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
                trust_env=False,
                read_bufsize=2**16,
                max_line_size=2**16,
                max_field_size=2**16,
            )
            self._sessions[proxy] = session
        return session

    def _connector(self, proxy: str) -> aiohttp.BaseConnector:
        if proxy.startswith(_SOCKS_SCHEMES):
            url = proxy.replace("socks://", "socks5://", 1)
            connector: aiohttp.BaseConnector = aiohttp_socks.ProxyConnector.from_url(
                url, limit=self._pool_limit, keepalive_timeout=KEEPALIVE_SECONDS, rdns=True
            )
            return connector
        return aiohttp.TCPConnector(limit=self._pool_limit, keepalive_timeout=KEEPALIVE_SECONDS)


@contextmanager
def translate_errors(secrets: tuple[str, ...], doing: str) -> Iterator[None]:
    """aiohttp / socket / proxy exceptions become octopus.errors; secrets never reach the text."""
    try:
        yield
    except UpstreamError:
        raise
    except aiohttp.ConnectionTimeoutError as exc:  # no byte sent: nothing the upstream can bill
        raise UpstreamConnect(f"upstream connection timed out while {doing}") from exc
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise UpstreamTimeout(f"upstream timed out while {doing}") from exc
    except aiohttp.ClientPayloadError as exc:
        raise UpstreamConnect(f"upstream connection lost while {doing}") from exc
    except aiohttp.ClientResponseError as exc:
        raise UpstreamProtocol(f"upstream sent an invalid HTTP response: {exc.message}") from exc
    except (aiohttp.ClientError, OSError, aiohttp_socks.ProxyError) as exc:
        text = scrub(f"{type(exc).__name__}: {exc}", secrets)
        raise UpstreamConnect(f"upstream connection failed while {doing}: {text}") from exc
    except ValueError as exc:  # invalid URL or proxy URL
        raise UpstreamConnect(scrub(f"invalid upstream address: {exc}", secrets)) from exc
