"""A 100 MB passthrough stream keeps the gateway's memory flat (measured in its own process),
also when the client stops reading for a while: the upstream must then be paused, whether the
relay writes directly to the connection or through ASGI `send`."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp
import pytest

from octopus.protocols import WireFormat
from tests.fakes.gateway import new_key
from tests.fakes.upstream import FakeUpstream, Fault

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"{field} missing")


STALL = 2.0  # seconds a stalled client reads nothing: the upstream sends 100 MB in less


@pytest.mark.slow
@pytest.mark.parametrize(("writes", "stall"), [("direct", 0.0), ("direct", STALL), ("asgi", STALL)])
async def test_hundred_megabyte_stream_keeps_rss_flat(
    fake: FakeUpstream, writes: str, stall: float
) -> None:
    key = new_key()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.relay.gateway_main",
        fake.base("c1", WireFormat.OPENAI_CHAT),
        key,
        writes,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        url = f"http://127.0.0.1:{line.split()[1].decode()}/v1/chat/completions"
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
        headers = {"Authorization": f"Bearer {key}"}
        async with aiohttp.ClientSession() as http:
            fake.script("c1", Fault(huge_bytes=4 * MiB))  # warm-up: imports, buffers, pools
            async with http.post(url, json=body, headers=headers) as resp:
                await resp.read()
            baseline = _status(proc.pid, "VmRSS")
            fake.script("c1", Fault(huge_bytes=100 * MiB))
            received = 0
            async with http.post(url, json=body, headers=headers) as resp:
                assert resp.status == 200
                await asyncio.sleep(stall)
                async for chunk in resp.content.iter_any():
                    received += len(chunk)
            peak = _status(proc.pid, "VmHWM")
        assert received > 100 * MiB
        assert peak - baseline < 8 * MiB, f"RSS grew by {(peak - baseline) / MiB:.1f} MiB"
    finally:
        proc.terminate()
        await proc.wait()
