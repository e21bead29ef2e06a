"""deploy/nginx-ha.conf, the proxy of deploy/compose-ha.yml, run by real nginx in front of two
real instances: requests are spread, stream events pass as they are sent, a killed replica's traffic moves
to the other one. (Docker itself does not run on this machine kind; this runs the same file.)"""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.cluster.fleet import ASK, make_routing
from tests.cluster.harness import Cluster, Instance, login, wait_ready
from tests.fakes.upstream import FakeUpstream, Fault

pytestmark = pytest.mark.integration
SITE = Path(__file__).parents[2] / "deploy" / "nginx-ha.conf"
MAIN = """daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/site.conf;
}}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _site(port: int, replicas: list[str]) -> str:
    """The deploy file with the compose service names swapped for the instances' addresses."""
    text = SITE.read_text()
    swaps = {
        "gateway-1:8080": replicas[0],
        "gateway-2:8080": replicas[1],
        "listen 8080;": f"listen 127.0.0.1:{port};",
    }
    for old, new in swaps.items():
        assert old in text, f"deploy/nginx-ha.conf no longer has {old!r}"
        text = text.replace(old, new)
    return text


@pytest.fixture
def nginx_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "nginx"
    folder.mkdir()
    return folder


def _start_nginx(folder: Path, replicas: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(binary).exists(), "nginx is missing: scripts/services.sh installs it"
    port = _free_port()
    (folder / "site.conf").write_text(_site(port, replicas))
    (folder / "nginx.conf").write_text(MAIN.format(dir=folder))
    argv = [binary, "-p", str(folder), "-c", str(folder / "nginx.conf")]
    popen = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert popen.poll() is None, (folder / "error.log").read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return popen, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    raise AssertionError("nginx did not listen")


@pytest.fixture
def proxy_cleanup() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for popen in started:
        popen.terminate()
        popen.wait(timeout=10)


async def _pid_behind(proxy: str) -> int:
    async with httpx.AsyncClient(timeout=5) as client:
        ready = await client.get(proxy + "/readyz")
        assert ready.status_code == 200, ready.text
        return int(ready.json()["pid"])


async def _pids_of(instances: list[Instance]) -> set[int]:
    return {int(str((await wait_ready(i))["pid"])) for i in instances}


async def test_the_deploy_proxy_spreads_streams_and_survives_a_killed_replica(
    pg_cluster: Cluster,
    upstream: FakeUpstream,
    nginx_dir: Path,
    proxy_cleanup: list[subprocess.Popen[bytes]],
) -> None:
    trusted = {"OCTOPUS_SERVER_TRUSTED_PROXIES": "127.0.0.1/32"}
    a, b = [pg_cluster.launch(name, trusted) for name in ("a", "b")]
    pids = await _pids_of([a, b])
    popen, proxy = _start_nginx(
        nginx_dir, [a.url.removeprefix("http://"), b.url.removeprefix("http://")]
    )
    proxy_cleanup.append(popen)
    async with login(a) as admin:
        routing = await make_routing(admin, upstream)
    await asyncio.sleep(1.2)  # the new key is live on b too

    seen = {await _pid_behind(proxy) for _ in range(12)}
    assert seen == pids, f"the proxy reached {seen}, the replicas are {pids}"

    gateway = openai.AsyncOpenAI(
        base_url=proxy + "/v1", api_key=routing.api_key, max_retries=0, timeout=30
    )
    async with gateway:
        # an event every 0.4 s: through the proxy they still arrive as they are sent
        upstream.script("c1", Fault(gap=0.4, pieces=["one", " two", " three", " four"]))
        upstream.script("c1", Fault(gap=0.4, pieces=["one", " two", " three", " four"]))
        started = time.monotonic()
        arrivals: list[float] = []
        text = ""
        stream = await gateway.chat.completions.create(**ASK, stream=True)  # type: ignore[call-overload]
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                arrivals.append(time.monotonic() - started)
                text += chunk.choices[0].delta.content
        assert text == "one two three four"
        assert arrivals[-1] - arrivals[0] > 0.8, f"events arrived together: {arrivals}"

        b.kill(signal.SIGKILL)
        b.popen.wait(timeout=10)
        codes = await asyncio.gather(*(_answer(gateway) for _ in range(20)))
        assert codes == [200] * 20, codes
        left = {await _pid_behind(proxy) for _ in range(6)}
        assert left == await _pids_of([a])


async def _answer(gateway: openai.AsyncOpenAI) -> int:
    try:
        await gateway.chat.completions.create(**ASK)  # type: ignore[call-overload]
    except openai.APIStatusError as exc:
        return exc.status_code
    return 200
