"""/api/v1/user: login, logout (revokes the token), session status and info, change of
password and username."""

from __future__ import annotations

import datetime
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from octopus.services.accounts import LoginRefused
from octopus.services.container import Services
from octopus.web.admin.auth import COOKIE, client_address, request_token
from octopus.web.admin.envelope import fail, ok
from octopus.web.admin.json_body import field, json_object


async def login(services: Services, request: Request) -> Response:
    body = await json_object(request)
    username = field(body, "username", str)
    password = field(body, "password", str)
    expire = field(body, "expire", int, default=0)
    try:
        result = await services.auth.login(client_address(request), username, password, expire)
    except LoginRefused as refused:
        headers = (
            {"Retry-After": str(int(refused.retry_after) + 1)} if refused.retry_after else None
        )
        return fail(refused.status, refused.message, headers)
    # the Go project answers an RFC 3339 time; clients parse it with `new Date(…)`
    response = ok(
        {
            "token": result.token,
            "expire_at": rfc3339(result.expires_at),
            "must_change_password": result.must_change_password,
        }
    )
    _set_cookie(services, request, response, result.token, result.expires_at)
    return response


def rfc3339(unix: int) -> str:
    return datetime.datetime.fromtimestamp(unix, datetime.UTC).isoformat().replace("+00:00", "Z")


def _set_cookie(
    services: Services, request: Request, response: Response, token: str, expires_at: int
) -> None:
    now = int(services.clock.time())
    response.set_cookie(
        COOKIE,
        token,
        max_age=max(expires_at - now, 0),
        path="/",
        httponly=True,
        samesite="lax",
        # TLS here or at a proxy listed in server.trusted_proxies (web/proxies.py)
        secure=request.url.scheme == "https",
    )


async def logout(services: Services, request: Request) -> Response:
    token = request_token(request)
    if token:
        await services.auth.logout(token)
    response = ok("logout successfully")
    response.delete_cookie(COOKIE, path="/")
    return response


async def status(request: Request) -> Response:
    return ok("ok")


async def info(services: Services, request: Request) -> Response:
    """Who is logged in, and whether the password must be changed before anything else."""
    account = (await services.auth.accounts.get()).account
    return ok({"username": account.username, "must_change_password": account.must_change_password})


async def change_password(services: Services, request: Request) -> Response:
    body = await json_object(request)
    return await _change(
        services,
        lambda service: service.change_password(
            field(body, "old_password", str), field(body, "new_password", str)
        ),
        "password changed successfully",
    )


async def change_username(services: Services, request: Request) -> Response:
    body = await json_object(request)
    return await _change(
        services,
        lambda service: service.change_username(field(body, "new_username", str)),
        "username changed successfully",
    )


async def _change(services: Services, action: Any, message: str) -> Response:
    try:
        await action(services.auth)
    except LoginRefused as refused:
        return fail(refused.status, refused.message)
    await services.config.changed()  # every other process drops the old account too
    # every earlier token is now void, this one included: the caller logs in again
    response = ok(message)
    response.delete_cookie(COOKIE, path="/")
    return response


def routes(services: Services) -> list[BaseRoute]:
    return [
        Route("/api/v1/user/login", partial(login, services), methods=["POST"]),
        Route("/api/v1/user/logout", partial(logout, services), methods=["POST"]),
        Route("/api/v1/user/status", status, methods=["GET"]),
        Route("/api/v1/user/info", partial(info, services), methods=["GET"]),
        Route("/api/v1/user/change-password", partial(change_password, services), methods=["POST"]),
        Route("/api/v1/user/change-username", partial(change_username, services), methods=["POST"]),
    ]
