"""A private redis-server on a unix socket, stopped and started again by a test (no persistence).

A socket file (not a TCP port) cannot be taken by another process between two starts.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
NO_PERSISTENCE = ("--save", "", "--appendonly", "no")


class PrivateRedis:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # a short path of its own: a unix socket path is limited to ~100 bytes
        self.socket = Path(tempfile.mkdtemp(prefix="octoredis")) / "redis.sock"
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}?db=0"

    def start(self) -> None:
        self.popen = subprocess.Popen(
            [REDIS_SERVER, "--port", "0", "--unixsocket", str(self.socket), *NO_PERSISTENCE],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(timeout=10)
        self.socket.unlink(missing_ok=True)  # a killed server leaves its socket file behind

    async def ready(self, within: float = 30.0) -> None:
        """Wait until the server answers PING."""
        client = Redis.from_url(self.url, socket_connect_timeout=1)
        try:
            async with asyncio.timeout(within):
                while True:
                    try:
                        await client.ping()
                        return
                    except (RedisError, OSError):
                        await asyncio.sleep(0.05)
        finally:
            await client.aclose()
