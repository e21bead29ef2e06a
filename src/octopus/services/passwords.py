"""Password hashing with argon2id; verification never raises on a bad hash."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# one of OWASP's equivalent argon2id settings (9 MiB, 4 passes): the library default's 64 MiB
# per login would dominate the gateway's peak memory
_HASHER = PasswordHasher(time_cost=4, memory_cost=9216, parallelism=1)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


async def hash_password_async(password: str) -> str:
    """Hashing costs tens of milliseconds of CPU: keep it off the event loop."""
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(verify_password, password_hash, password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
