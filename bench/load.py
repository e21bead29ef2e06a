"""Load generators: wrk with a Lua POST script (non-stream) and an aiohttp SSE client (streams)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from procs import BenchError, tool

PATH = "/v1/chat/completions"
MODEL = "bench-model"
BODY = json.dumps(
    {"model": MODEL, "messages": [{"role": "user", "content": "Say hello."}]},
    separators=(",", ":"),
)
STREAM_BODY = json.dumps(
    {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Say hello."}],
        "stream": True,
        "stream_options": {"include_usage": True},
    },
    separators=(",", ":"),
).encode()
EVENTS = 102  # 100 content chunks + the usage chunk + [DONE]
LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
wrk.body = '{body}'

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {{"requests":%d,"duration_us":%d,"errors":%d,"status_errors":%d,' ..
    '"p50_us":%d,"p99_us":%d}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    errors: int  # socket errors, timeouts and non-2xx answers
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class StreamResult:
    streams: int  # complete, valid streams
    seconds: float
    errors: int
    ttfb_p50_ms: float
    ttfb_p99_ms: float
    total_p50_ms: float
    total_p99_ms: float

    @property
    def per_second(self) -> float:
        return self.streams / self.seconds if self.seconds else 0.0


def write_lua(folder: Path, key: str) -> Path:
    script = folder / f"post-{abs(hash(key))}.lua"
    script.write_text(LUA.format(key=key, body=BODY))
    return script


def run_wrk(base_url: str, script: Path, connections: int, seconds: float) -> WrkResult:
    """One wrk run (1 thread) on the current core; latency percentiles from its histogram."""
    whole = max(1, round(seconds))  # wrk takes whole seconds
    argv = [tool("wrk"), "-t1", f"-c{connections}", f"-d{whole}s", "--timeout", "10s"]
    argv += ["-s", str(script), base_url + PATH]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=whole + 60, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            data = json.loads(line[6:])
            return WrkResult(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                errors=data["errors"] + data["status_errors"],
                p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
            )
    raise BenchError(f"wrk gave no result: {done.stdout[-300:]} {done.stderr[-300:]}")


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


@dataclass
class _Tally:
    ttfb: list[float]
    total: list[float]
    errors: int = 0


async def _one_stream(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], tally: _Tally
) -> None:
    started = time.perf_counter()
    async with session.post(url, data=STREAM_BODY, headers=headers) as resp:
        data = bytearray(await resp.content.readany())
        ttfb = time.perf_counter() - started
        while chunk := await resp.content.readany():
            data += chunk
        status = resp.status
    total = time.perf_counter() - started
    if status == 200 and data.count(b"data:") == EVENTS and data.rstrip().endswith(b"[DONE]"):
        tally.ttfb.append(ttfb * 1000)
        tally.total.append(total * 1000)
    else:
        tally.errors += 1


async def _worker(
    session: aiohttp.ClientSession, url: str, key: str, deadline: float, tally: _Tally
) -> None:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    while time.perf_counter() < deadline:
        try:
            await _one_stream(session, url, headers, tally)
        except (aiohttp.ClientError, TimeoutError):
            tally.errors += 1
            await asyncio.sleep(0.01)


async def stream_load(base_url: str, key: str, concurrency: int, seconds: float) -> StreamResult:
    """`concurrency` clients each streaming back to back for `seconds`; only valid streams count."""
    tally = _Tally([], [])
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, auto_decompress=False
    ) as session:
        started = time.perf_counter()
        deadline = started + seconds
        workers = [
            _worker(session, base_url + PATH, key, deadline, tally) for _ in range(concurrency)
        ]
        await asyncio.gather(*workers)
        elapsed = time.perf_counter() - started
    return StreamResult(
        streams=len(tally.total),
        seconds=elapsed,
        errors=tally.errors,
        ttfb_p50_ms=percentile(tally.ttfb, 50),
        ttfb_p99_ms=percentile(tally.ttfb, 99),
        total_p50_ms=percentile(tally.total, 50),
        total_p99_ms=percentile(tally.total, 99),
    )


async def probe(base_url: str, key: str) -> str | None:
    """One non-stream and one stream request; None when both answers are right, else why not."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            async with session.post(base_url + PATH, data=BODY, headers=headers) as resp:
                text = await resp.text()
                if resp.status != 200 or "Hello from the bench upstream" not in text:
                    return f"non-stream answer {resp.status}: {text[:300]}"
            async with session.post(base_url + PATH, data=STREAM_BODY, headers=headers) as resp:
                body = await resp.read()
                events = body.count(b"data:")
                if resp.status != 200 or events != EVENTS or not body.rstrip().endswith(b"[DONE]"):
                    return f"stream answer {resp.status}, {events} events: {body[-300:]!r}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return f"request failed: {exc!r}"
    return None
