"""Nothing is read before it is allowed: 300 MB chunked uploads to admin routes, with and
without a session, leave the real process's peak memory (VmHWM) flat."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest

from tests.harness import Process
from tests.security.conftest import LOGIN, login, no_traceback, peak_rss_kib, reset_peak_rss

UPLOAD = 300 * 1024 * 1024
CHUNK = 256 * 1024
MAX_GROWTH_KIB = 20 * 1024
IMPORT = "/api/v1/setting/import"
IMPORT_BOUND_KIB = 2 * 64 * 1024 + MAX_GROWTH_KIB  # the cap, once joined into one buffer
ROUTES = (
    LOGIN,  # public: reads the body
    "/api/v1/apikey/create",  # needs a session
    IMPORT,  # the larger import cap
    "/api/v1/nothing-here",
    "/",  # the panel
)


@dataclass
class Upload:
    sent: int
    status: int | None


def chunked_upload(url: str, path: str, headers: dict[str, str], total: int) -> Upload:
    """POST `total` bytes in chunks on a raw socket until done or the server stops reading;
    then the status line the server answered (None when it answered nothing)."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    head = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}", "Transfer-Encoding: chunked"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    frame = f"{CHUNK:x}\r\n".encode() + b"[" * CHUNK + b"\r\n"
    sent = 0
    try:
        while sent < total:
            sock.sendall(frame)
            sent += CHUNK
        sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server answered and closed, or stopped reading: both are the point
    status = _status(sock)
    sock.close()
    return Upload(sent, status)


def _status(sock: socket.socket) -> int | None:
    try:
        first = sock.recv(4096)
    except OSError:
        return None
    parts = first.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


@pytest.mark.slow
def test_300mb_chunked_uploads_keep_memory_flat(gateway: Process) -> None:
    token = login(gateway.url)  # warm up: the password hash has run once
    with_session = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    anonymous = {"Content-Type": "application/json"}
    httpx.get(gateway.url + "/api/v1/channel/list", headers=with_session)
    reset_peak_rss(gateway)
    baseline = peak_rss_kib(gateway)
    results = {}
    cases = [(path, "anonymous", anonymous) for path in ROUTES]
    cases += [(path, "session", with_session) for path in ROUTES if path != IMPORT]
    for path, name, headers in cases:
        upload = chunked_upload(gateway.url, path, headers, UPLOAD)
        results[(path, name)] = upload
        assert upload.status in (None, 401, 404, 405, 413), (path, name, upload)
    growth = peak_rss_kib(gateway) - baseline
    assert growth <= MAX_GROWTH_KIB, (growth, results)
    # without a session, a route that needs one answers 401 (reading: the next test)
    for path in ("/api/v1/apikey/create", IMPORT):
        assert results[(path, "anonymous")].status == 401, (path, results[(path, "anonymous")])
    # a session's upload to a body-reading route stops at its cap with 413
    assert results[(LOGIN, "session")].status == 413
    assert results[("/api/v1/apikey/create", "session")].status == 413
    assert httpx.get(gateway.url + "/api/v1/user/status", headers=with_session).status_code == 200
    # the import has a larger cap (64 MiB): what it holds is bounded by that, not by the upload
    upload = chunked_upload(gateway.url, IMPORT, with_session, UPLOAD)
    assert upload.status == 413
    import_growth = peak_rss_kib(gateway) - baseline
    assert import_growth <= IMPORT_BOUND_KIB, import_growth
    no_traceback(gateway)


@pytest.mark.slow
def test_an_anonymous_upload_to_a_session_route_is_not_read_whole(gateway: Process) -> None:
    anonymous = {"Content-Type": "application/json"}
    for path in ("/api/v1/apikey/create", IMPORT):
        upload = chunked_upload(gateway.url, path, anonymous, UPLOAD)
        assert upload.status == 401, (path, upload)
        assert upload.sent < UPLOAD, (path, upload)


def test_declared_length_over_the_cap_is_refused_before_reading(gateway: Process) -> None:
    parts = urlsplit(gateway.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = (
            f"POST {LOGIN} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Content-Type: application/json\r\nContent-Length: 2000000\r\n\r\n"
        )
        sock.sendall(head.encode())  # and not one byte of the body
        assert _status(sock) == 413
