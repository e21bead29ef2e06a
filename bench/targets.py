"""The systems under test: the fake upstream called directly, nginx, and the real gateway."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from load import MODEL
from procs import BenchError, Child, free_port, start, tool, wait_port

BENCH_DIR = Path(__file__).resolve().parent
UPSTREAM_KEY = "sk-bench-upstream"
FLOOR = "python-floor"
NGINX_CONF = """\
worker_processes 1;
worker_rlimit_nofile 20000;
{user}
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
daemon off;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000000;
    upstream bench_upstream {{
        server 127.0.0.1:{upstream};
        keepalive 8192;
        keepalive_requests 1000000;
    }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://bench_upstream;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }}
    }}
}}
"""


@dataclass
class Target:
    """Something that answers POST /v1/chat/completions; `procs` are the processes it costs."""

    name: str
    url: str
    key: str
    procs: list[Child] = field(default_factory=list)
    note: str = ""

    def pids(self) -> list[int]:
        return [pid for child in self.procs for pid in child.tree()]


def start_upstream(work: Path, core: str, chunk_delay_ms: float) -> Target:
    port = free_port()
    argv = [sys.executable, str(BENCH_DIR / "upstream.py"), "--port", str(port)]
    argv += ["--chunk-delay-ms", str(chunk_delay_ms)]
    child = start("upstream", argv, core, work / "upstream.log")
    wait_port(port, child.popen)
    return Target("direct", f"http://127.0.0.1:{port}", UPSTREAM_KEY, [child])


def start_nginx(work: Path, core: str, upstream: Target) -> Target:
    folder = work / "nginx"
    folder.mkdir()
    port = free_port()
    conf = NGINX_CONF.format(
        dir=folder,
        port=port,
        upstream=upstream.url.rsplit(":", 1)[1],
        user="user root;" if os.geteuid() == 0 else "",
    )
    (folder / "nginx.conf").write_text(conf)
    argv = [tool("nginx"), "-p", str(folder), "-c", str(folder / "nginx.conf")]
    argv += ["-e", str(folder / "error.log")]
    child = start("nginx", argv, core, folder / "stdout.log")
    wait_port(port, child.popen)
    return Target("nginx", f"http://127.0.0.1:{port}", UPSTREAM_KEY, [child])


def start_floor(work: Path, core: str, upstream: Target, *, wrap: Sequence[str] = ()) -> Target:
    """bench/floor_proxy.py: the least a Python (uvloop + httptools) proxy spends on this path.
    `wrap`: a command it runs under (valgrind)."""
    port = free_port()
    argv = [*wrap, sys.executable, str(BENCH_DIR / "floor_proxy.py"), "--port", str(port)]
    argv += ["--upstream-port", upstream.url.rsplit(":", 1)[1]]
    child = start(FLOOR, argv, core, work / "floor.log")
    wait_port(port, child.popen)
    return Target(FLOOR, f"http://127.0.0.1:{port}", UPSTREAM_KEY, [child])


ADMIN_PASSWORD = "bench-admin-password"  # noqa: S105 - a throwaway gateway on loopback


def start_gateway(  # noqa: PLR0913 - the keyword-only ones serve the counted scenario
    work: Path,
    core: str,
    upstream: Target,
    name: str,
    logging: bool,
    shared: dict[str, str] | None = None,
    *,
    wrap: Sequence[str] = (),
    env_extra: dict[str, str] | None = None,
) -> Target:
    """A real `octopus start` in its own folder (SQLite) running this checkout's code, configured
    through the admin API. `shared`: more environment (workers, Redis) for a gateway whose key
    has an RPM limit and whose `bench-model` is a two-member round-robin group. `wrap`: a
    command it runs under (valgrind); `env_extra`: more environment, for that gateway alone."""
    folder = work / name
    folder.mkdir()
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(BENCH_DIR.parent / "src"),
        "OCTOPUS_SERVER_PORT": str(port),
        "OCTOPUS_SERVER_HOST": "127.0.0.1",
        # prices come from the bundled snapshot: the bench never leaves 127.0.0.1
        "OCTOPUS_PRICES_MODELS_DEV_URL": upstream.url + "/models-dev.json",
        "OCTOPUS_ADMIN_PASSWORD": ADMIN_PASSWORD,  # admin/admin may only change the password
        **(shared or {}),
        **(env_extra or {}),
    }
    launcher = ["-P", str(BENCH_DIR / ("octopus_probe.py" if logging else "octopus_nolog.py"))]
    argv = [*wrap, sys.executable, *launcher, "start", "--config", "data/config.json"]
    child = start(name, argv, core, folder / "octopus.log", cwd=folder, env=env)
    try:
        wait_port(port, child.popen, timeout=60)
        url = f"http://127.0.0.1:{port}"
        key = configure(url, upstream, shared is not None)
    except (BenchError, httpx.HTTPError) as exc:
        child.stop()
        raise BenchError(f"{name}: {exc}\n--- {child.log} (tail)\n{child.tail()}") from None
    return Target(name, url, key, [child])


def _admin(client: httpx.Client, path: str, body: dict[str, object]) -> object:
    resp = client.post(path, json=body)
    try:
        envelope = resp.json()
    except ValueError:
        envelope = {}
    if resp.status_code != 200 or not isinstance(envelope, dict) or envelope.get("code") != 200:
        raise BenchError(f"POST {path} -> {resp.status_code} {resp.text[:300]}")
    return envelope.get("data")


_BENCH_CHANNEL: dict[str, object] = {
    "name": "bench-upstream",
    "type": "openai",
    "enabled": True,
    "key": UPSTREAM_KEY,
    "model": MODEL,
}
SHARED_RPM = 10_000_000  # never reached: the limit is there to be checked on every request


def configure(url: str, upstream: Target, shared: bool = False) -> str:
    """admin login -> one channel -> one group (one member) -> one API key; returns the key.
    `shared`: two channels in a round-robin group and a key with an RPM limit."""
    with httpx.Client(base_url=url, timeout=30) as client:
        _admin(
            client,
            "/api/v1/user/login",
            {"username": "admin", "password": ADMIN_PASSWORD, "expire": 86400},
        )
        channel = {**_BENCH_CHANNEL, "base_url": upstream.url + "/v1"}
        members = [_field(_admin(client, "/api/v1/channel/create", channel), "id")]
        if shared:
            twin = {**channel, "name": "bench-upstream-2"}
            members.append(_field(_admin(client, "/api/v1/channel/create", twin), "id"))
        items = [{"channel_id": cid, "model_name": MODEL, "priority": 1} for cid in members]
        mode = "round_robin" if shared else "failover"
        _admin(client, "/api/v1/group/create", {"name": MODEL, "mode": mode, "items": items})
        for kind, name, base in (
            ("anthropic", "bench-anthropic", upstream.url + "/v1"),
            ("gemini", "bench-gemini", upstream.url + "/v1beta"),
        ):
            _add_group(client, kind, name, base)
        limits = {"max_rpm": SHARED_RPM} if shared else {}
        apikey = _admin(
            client, "/api/v1/apikey/create", {"name": "bench", "enabled": True, **limits}
        )
        key = _field(apikey, "api_key")
    if not isinstance(key, str):
        raise BenchError(f"apikey/create returned no api_key: {apikey!r}")
    return key


def _add_group(client: httpx.Client, kind: str, name: str, base_url: str) -> None:
    """A channel of another provider type and a one-member group named like its model."""
    channel = _admin(
        client,
        "/api/v1/channel/create",
        {
            "name": name,
            "type": kind,
            "enabled": True,
            "base_url": base_url,
            "key": UPSTREAM_KEY,
            "model": name,
        },
    )
    _admin(
        client,
        "/api/v1/group/create",
        {
            "name": name,
            "mode": "failover",
            "items": [{"channel_id": _field(channel, "id"), "model_name": name, "priority": 1}],
        },
    )


def _field(data: object, name: str) -> object:
    if not isinstance(data, dict) or name not in data:
        raise BenchError(f"expected {name!r} in {data!r:.300}")
    return data[name]
