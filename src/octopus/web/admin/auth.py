"""Admin sessions over HTTP: the token travels in the `auth` cookie or a Bearer header."""

from __future__ import annotations

from starlette.requests import HTTPConnection

COOKIE = "auth"


def request_token(conn: HTTPConnection) -> str:
    header = conn.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        value = header[7:].strip()
        if not value.startswith("sk-octopus-"):
            return value
    return conn.cookies.get(COOKIE, "")


def client_address(conn: HTTPConnection) -> str:
    """The peer, or the client a trusted proxy named (see web/proxies.py)."""
    return conn.client.host if conn.client else "unknown"
