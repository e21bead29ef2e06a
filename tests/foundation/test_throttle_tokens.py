"""Pure parts of login hardening: the throttle's growing waits and lock, token signing."""

from __future__ import annotations

import asyncio

import pytest

from octopus.core.throttle import LocalThrottles, LoginThrottle, ThrottlePolicy
from octopus.services import tokens
from octopus.services.accounts import LoginGuards, LoginRefused, token_lifetime
from octopus.services.passwords import HashPool, HashPoolBusy, hash_password, password_problem
from tests.fakes.doubles import FakeClock


def test_waits_grow_then_lock_and_success_resets() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(
        clock, ThrottlePolicy(free_failures=2, base_delay=1, lock_after=6, lock_seconds=900)
    )
    waits = []
    for _ in range(6):
        throttle.failed("1.2.3.4")
        waits.append(throttle.retry_after("1.2.3.4"))
    assert waits == [0, 0, 1, 2, 4, 900]
    assert throttle.retry_after("5.6.7.8") == 0
    clock.advance(901)
    assert throttle.retry_after("1.2.3.4") == 0
    throttle.succeeded("1.2.3.4")
    throttle.failed("1.2.3.4")
    assert throttle.retry_after("1.2.3.4") == 0


def test_tokens_verify_only_with_the_secret_and_before_expiry() -> None:
    claims = tokens.TokenClaims(user_id=1, version=3, issued_at=100, expires_at=200)
    token = tokens.issue("secret-a", claims)
    assert tokens.verify("secret-a", token, now=150) == claims
    assert tokens.verify("secret-b", token, now=150) is None
    assert tokens.verify("secret-a", token, now=201) is None
    body, _, sig = token.partition(".")
    assert tokens.verify("secret-a", body + "x." + sig, now=150) is None
    assert tokens.verify("secret-a", "garbage", now=150) is None


def test_lifetimes() -> None:
    assert token_lifetime(0) == 15 * 60
    assert token_lifetime(-1) == 30 * 24 * 3600
    assert token_lifetime(86400) == 86400
    assert token_lifetime(10**9) == 30 * 24 * 3600


async def test_attempts_count_before_the_check_per_address_and_username() -> None:
    guards = LoginGuards(LocalThrottles.default(FakeClock()), HashPool())
    for _ in range(4):  # admitted and counted without any outcome reported yet
        await guards.admit("1.2.3.4", "admin")
    with pytest.raises(LoginRefused) as refused:
        await guards.admit("1.2.3.4", "someone-else")
    assert refused.value.status == 429
    await guards.admit("5.6.7.8", "Admin")  # the fifth and sixth attempts at this username
    await guards.admit("5.6.7.8", "admin")  # (five free, then a wait), from another address
    with pytest.raises(LoginRefused):
        await guards.admit("9.9.9.9", " ADMIN ")  # names compare case- and space-insensitively
    guards.hashes.close()


async def test_hash_pool_turns_away_work_beyond_its_queue() -> None:
    pool = HashPool(workers=1, max_waiting=1)
    digest = hash_password("correct horse")
    first = asyncio.create_task(pool.verify(digest, "x"))
    second = asyncio.create_task(pool.verify(digest, "y"))
    await asyncio.sleep(0)
    with pytest.raises(HashPoolBusy):
        await pool.verify(digest, "z")
    assert await first is False
    assert await second is False
    assert await pool.verify(digest, "correct horse") is True
    pool.close()


def test_password_rules() -> None:
    assert password_problem("admin", "short") is not None
    assert password_problem("administrator", "Administrator ") is not None
    assert password_problem("admin", "admin") is not None
    assert password_problem("admin", "a-long-pass") is None
