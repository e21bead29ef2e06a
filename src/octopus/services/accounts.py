"""The admin account: login with throttling, signed session tokens, password and name changes."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from octopus.core.clock import Clock
from octopus.services import tokens
from octopus.services.passwords import hash_password_async, verify_password_async
from octopus.services.throttle import LoginThrottle
from octopus.store import users
from octopus.store.database import Sessions
from octopus.store.tables import User

log = logging.getLogger("octopus.auth")
DEFAULT_LIFETIME = 15 * 60
MIN_PASSWORD = 6


@dataclass(frozen=True)
class Account:
    user_id: int
    username: str
    token_version: int
    password_hash: str


class LoginRefused(Exception):
    def __init__(self, status: int, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


class AuthService:
    """Owns the admin account snapshot, the signing secret and the login throttle."""

    def __init__(
        self,
        sessions: Sessions,
        secret: str,
        account: Account,
        clock: Clock,
        throttle: LoginThrottle,
    ) -> None:
        self._sessions = sessions
        self._secret = secret
        self.account = account
        self._clock = clock
        self._throttle = throttle

    async def login(
        self, address: str, username: str, password: str, expire: int
    ) -> tuple[str, int]:
        wait = self._throttle.retry_after(address)
        if wait > 0:
            raise LoginRefused(429, f"Too many failed logins; try again in {int(wait) + 1} s", wait)
        account = self.account
        matches = await verify_password_async(account.password_hash, password)
        if username != account.username or not matches:
            failures = self._throttle.failed(address)
            log.warning(
                "failed admin login", extra={"fields": {"client": address, "failures": failures}}
            )
            raise LoginRefused(401, "Authentication failed")
        self._throttle.succeeded(address)
        lifetime = token_lifetime(expire)
        now = int(self._clock.time())
        claims = tokens.TokenClaims(account.user_id, account.token_version, now, now + lifetime)
        return tokens.issue(self._secret, claims), claims.expires_at

    def verify(self, token: str) -> bool:
        claims = tokens.verify(self._secret, token, self._clock.time())
        account = self.account
        return (
            claims is not None
            and claims.user_id == account.user_id
            and claims.version == account.token_version
        )

    async def change_password(self, old_password: str, new_password: str) -> None:
        if not await verify_password_async(self.account.password_hash, old_password):
            raise LoginRefused(400, "The current password is wrong")
        if len(new_password) < MIN_PASSWORD:
            raise LoginRefused(
                400, f"The new password must have at least {MIN_PASSWORD} characters"
            )
        await self._save(password_hash=await hash_password_async(new_password))

    async def change_username(self, new_username: str) -> None:
        name = new_username.strip()
        if not name:
            raise LoginRefused(400, "The username must not be empty")
        if name == self.account.username:
            raise LoginRefused(400, "The new username is the same as the current one")
        await self._save(username=name)

    async def _save(self, *, username: str | None = None, password_hash: str | None = None) -> None:
        async with self._sessions() as session:
            user = await users.update_credentials(
                session, self.account.user_id, username=username, password_hash=password_hash
            )
        self.account = account_of(user)


def account_of(user: User) -> Account:
    return Account(user.id, user.username, user.token_version, user.password_hash)


def token_lifetime(expire: int) -> int:
    """The reference's `expire`: seconds > 0, -1 = 30 days, 0 = 15 minutes; capped at 30 days."""
    if expire == -1:
        return tokens.MAX_LIFETIME
    if expire <= 0:
        return DEFAULT_LIFETIME
    return min(expire, tokens.MAX_LIFETIME)
