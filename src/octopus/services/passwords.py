"""Password hashing with argon2id in a small pool of its own; verification never raises."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# one of OWASP's equivalent argon2id settings (9 MiB, 4 passes): the library default's 64 MiB
# per login would dominate the gateway's peak memory
_HASHER = PasswordHasher(time_cost=4, memory_cost=9216, parallelism=1)
MIN_PASSWORD = 8
T = TypeVar("T")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


async def hash_password_async(password: str) -> str:
    """Hashing costs tens of milliseconds of CPU: keep it off the event loop."""
    return await asyncio.to_thread(hash_password, password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problem(username: str, password: str) -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD:
        return f"The new password must have at least {MIN_PASSWORD} characters"
    if password.strip().casefold() == username.strip().casefold():
        return "The new password must not be the username"
    return None


class HashPoolBusy(Exception):
    """Every hashing slot and every waiting place is taken: the caller should retry later."""


class HashPool:
    """Password hashes run here, in their own threads, a few at a time: a login flood queues
    (boundedly) behind itself instead of taking the threads the rest of the gateway uses."""

    def __init__(self, workers: int = 2, max_waiting: int = 8) -> None:
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="password-hash")
        self._capacity = workers + max_waiting
        self._in_flight = 0

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self._run(lambda: verify_password(password_hash, password))

    async def hash(self, password: str) -> str:
        return await self._run(lambda: hash_password(password))

    async def _run(self, work: Callable[[], T]) -> T:
        if self._in_flight >= self._capacity:
            raise HashPoolBusy
        self._in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        finally:
            self._in_flight -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
