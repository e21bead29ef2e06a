"""The admin account as the database has it, re-read at most every 2 s: a password reset by the
CLI or a change on another instance applies here within that time, without Redis."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from octopus.core.clock import Clock
from octopus.store import users
from octopus.store.database import Sessions
from octopus.store.tables import User

log = logging.getLogger("octopus.auth")
MAX_AGE = 2.0


@dataclass(frozen=True)
class Account:
    user_id: int
    username: str
    token_version: int
    password_hash: str = ""
    must_change_password: bool = False


@dataclass(frozen=True)
class AccountView:
    account: Account
    revoked: frozenset[str]  # ids of sessions ended by logout


class AccountUnavailable(Exception):
    """The database could not be read: admin requests fail closed."""


def account_of(user: User) -> Account:
    return Account(
        user.id, user.username, user.token_version, user.password_hash, user.must_change_password
    )


class AccountCache:
    def __init__(self, sessions: Sessions, clock: Clock, max_age: float = MAX_AGE) -> None:
        self._sessions = sessions
        self._clock = clock
        self._max_age = max_age
        self._view: AccountView | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> AccountView:
        view = self._fresh()
        if view is not None:
            return view
        async with self._lock:  # one read serves every request waiting on it
            view = self._fresh()
            if view is None:
                started = self._clock.monotonic()
                view = await self._load()
                self._view, self._loaded_at = view, started
        return view

    def invalidate(self) -> None:
        """After a change made here: the next request reads the database again."""
        self._view = None

    def _fresh(self) -> AccountView | None:
        if self._view is None or self._clock.monotonic() - self._loaded_at >= self._max_age:
            return None
        return self._view

    async def _load(self) -> AccountView:
        try:
            async with self._sessions() as session:
                user = await users.first_user(session)
                revoked = await users.revoked_tokens(session, int(self._clock.time()))
        except Exception as exc:
            log.warning("admin account unreadable: %s", type(exc).__name__)
            raise AccountUnavailable from None
        if user is None:
            raise AccountUnavailable
        return AccountView(account_of(user), revoked)
