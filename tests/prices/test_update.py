"""/api/v1/update: the latest GitHub release (fake server), offline errors, the version."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from octopus import __version__
from octopus.upstream.github import releases_url
from tests.harness import Gateway, admin_client, serve
from tests.prices.conftest import data, gateway_settings
from tests.prices.fake_http import FakeHttp

RELEASE = {
    "tag_name": "v1.4.0",
    "published_at": "2026-01-02T03:04:05Z",
    "body": "## Changes\n- faster",
    "name": "v1.4.0",
}


async def test_latest_release_and_version(
    gateway: Gateway, admin: httpx.AsyncClient, fake: FakeHttp
) -> None:
    fake.answer(RELEASE)
    latest = data(await admin.get("/api/v1/update"))
    assert latest == {
        "tag_name": "v1.4.0",
        "published_at": "2026-01-02T03:04:05Z",
        "body": "## Changes\n- faster",
        "message": "",
    }
    seen = [s for s in fake.seen if "/releases/" in s.url][-1]
    assert seen.url.endswith("/repos/acme/octopus/releases/latest")
    assert seen.headers["Accept"] == "application/vnd.github+json"
    assert "Authorization" not in seen.headers  # no PAT configured
    assert data(await admin.get("/api/v1/update/now-version")) == __version__

    refused = await admin.post("/api/v1/update", json={})
    assert refused.status_code == 501
    assert "self-update is not supported" in refused.json()["message"]


async def test_github_errors_are_envelope_errors(
    gateway: Gateway, admin: httpx.AsyncClient, fake: FakeHttp
) -> None:
    fake.answer({"message": "Not Found"}, status=404)
    response = await admin.get("/api/v1/update")
    assert response.status_code == 502
    assert response.json() == {
        "code": 502,
        "message": "could not check for updates: HTTP 404: Not Found",
    }
    fake.answer({"no": "tag"})
    response = await admin.get("/api/v1/update")
    assert response.json()["message"] == (
        "could not check for updates: GitHub answered without a release tag"
    )


async def test_pat_is_sent_as_bearer_and_offline_is_a_clear_error(
    tmp_path: Path, fake: FakeHttp, refused_port: int
) -> None:
    fake.answer(RELEASE)
    settings = gateway_settings(
        None,
        tmp_path,
        github_pat="ghp_secret_token_123456",
        update_repository=f"{fake.base}/repos/acme/octopus/releases/latest",
    )
    async with serve(settings) as gateway:
        client = await admin_client(gateway)
        assert data(await client.get("/api/v1/update"))["tag_name"] == "v1.4.0"
        assert fake.seen[-1].headers["Authorization"] == "Bearer ghp_secret_token_123456"
        await client.aclose()

    offline = gateway_settings(
        None,
        tmp_path,
        github_pat="ghp_secret_token_123456",
        update_repository=f"http://127.0.0.1:{refused_port}/repos/a/b/releases/latest",
    )
    async with serve(offline) as gateway:
        client = await admin_client(gateway)
        response = await client.get("/api/v1/update")
        await client.aclose()
    body = response.json()
    assert response.status_code == 502
    assert body["message"].startswith("could not check for updates: upstream connection failed")
    assert "Traceback" not in body["message"]
    assert "ghp_secret" not in body["message"]


@pytest.mark.parametrize(
    ("repository", "url"),
    [
        ("acme/octopus", "https://api.github.com/repos/acme/octopus/releases/latest"),
        ("https://github.com/acme/octopus/", "https://api.github.com/repos/acme/octopus/releases/latest"),
        ("github.com/acme/octopus.git", "https://api.github.com/repos/acme/octopus/releases/latest"),
        ("http://127.0.0.1:9/repos/a/b/releases/latest", "http://127.0.0.1:9/repos/a/b/releases/latest"),
    ],
)  # fmt: skip
def test_releases_url(repository: str, url: str) -> None:
    assert releases_url(repository) == url
