"""A loopback TCP proxy that makes a server slow: every reply arrives `delay` seconds late, or
never (`blackhole`: connections are accepted and read, nothing is answered).

Used in front of Redis by the cluster tests (in-process: `delay` and `blackhole` can change while
it runs) and by the bench (`python tests/fakes/slow_tcp.py --port P --target 6379 --delay-ms 200`).
Standard library only, so the bench can run it as a script.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Callable


class SlowProxy:
    def __init__(self, target_port: int, delay: float = 0.0, blackhole: bool = False) -> None:
        self.target_port = target_port
        self.delay = delay
        self.blackhole = blackhole
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self, port: int = 0) -> SlowProxy:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self.blackhole:
                while await reader.read(65536):
                    pass
                return
            upstream = await asyncio.open_connection("127.0.0.1", self.target_port)
            await asyncio.gather(
                _pipe(reader, upstream[1], lambda: 0.0), _pipe(upstream[0], writer, self._late)
            )
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    def _late(self) -> float:
        return float("inf") if self.blackhole else self.delay


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: Callable[[], float]
) -> None:
    """Copy `reader` to `writer`, each chunk held until `delay()` seconds after it arrived."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def send() -> None:
        while True:
            arrived, data = await queue.get()
            if not data:
                break
            wait = arrived + delay() - time.monotonic()
            if wait == float("inf"):
                await asyncio.Event().wait()  # blackholed while running: never answered
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(send())
    try:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                queue.put_nowait((time.monotonic(), data))
        queue.put_nowait((time.monotonic(), b""))
        with contextlib.suppress(ConnectionError):
            await sender
    finally:
        sender.cancel()


async def _serve(args: argparse.Namespace) -> None:
    proxy = SlowProxy(args.target, args.delay_ms / 1000, args.blackhole)
    await proxy.start(args.port)
    print(f"slow proxy on {proxy.port}", flush=True)  # noqa: T201
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--target", type=int, default=6379)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--blackhole", action="store_true")
    asyncio.run(_serve(parser.parse_args()))
