"""The admin account: throttled login, signed session tokens checked against the account and
the revocation list as the database has them (≤ 2 s old), password and name changes."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from octopus.core.clock import Clock
from octopus.core.throttle import LocalThrottles, LoginThrottles
from octopus.services import tokens
from octopus.services.account_cache import Account, AccountCache
from octopus.services.passwords import HashPool, HashPoolBusy, password_problem
from octopus.store import users
from octopus.store.database import Sessions

log = logging.getLogger("octopus.auth")
DEFAULT_LIFETIME = 15 * 60


@dataclass(frozen=True)
class Session:
    claims: tokens.TokenClaims
    account: Account


@dataclass(frozen=True)
class LoginResult:
    token: str
    expires_at: int
    must_change_password: bool


class LoginRefused(Exception):
    def __init__(self, status: int, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoginGuards:
    """What stands between a password guess and the hash: the throttles (per address and per
    username, in this process or fleet-wide) and the hash pool."""

    throttles: LoginThrottles
    hashes: HashPool

    @classmethod
    def default(cls, clock: Clock) -> LoginGuards:
        return cls(LocalThrottles.default(clock), HashPool())

    async def admit(self, address: str, username: str) -> None:
        """Count the attempt before anything is checked, or refuse it with 429."""
        wait = await self.throttles.admit(address, _folded(username))
        if wait > 0:
            raise LoginRefused(429, f"Too many failed logins; try again in {int(wait) + 1} s", wait)

    async def succeeded(self, address: str, username: str) -> None:
        await self.throttles.succeeded(address, _folded(username))


def _folded(username: str) -> str:
    return username.strip().casefold()


class AuthService:
    """Owns the signing secret, the account cache and the login guards."""

    def __init__(
        self, sessions: Sessions, secret: str, clock: Clock, guards: LoginGuards | None = None
    ) -> None:
        self._sessions = sessions
        self._secret = secret
        self._clock = clock
        self.accounts = AccountCache(sessions, clock)
        self.guards = guards or LoginGuards.default(clock)

    async def login(self, address: str, username: str, password: str, expire: int) -> LoginResult:
        await self.guards.admit(address, username)
        account = (await self.accounts.get()).account
        matches = await self._verify(account.password_hash, password)
        if username != account.username or not matches:
            log.warning("failed admin login", extra={"fields": {"client": address}})
            raise LoginRefused(401, "Authentication failed")
        await self.guards.succeeded(address, username)
        lifetime = token_lifetime(expire)
        now = int(self._clock.time())
        claims = tokens.TokenClaims(
            account.user_id, account.token_version, now, now + lifetime, tokens.new_token_id()
        )
        return LoginResult(
            tokens.issue(self._secret, claims), claims.expires_at, account.must_change_password
        )

    async def session(self, token: str) -> Session | None:
        """The session a token stands for, when it is signed, unexpired, current and not revoked."""
        claims = tokens.verify(self._secret, token, self._clock.time())
        if claims is None or not claims.token_id:
            return None
        view = await self.accounts.get()
        account = view.account
        if (
            claims.user_id != account.user_id
            or claims.version != account.token_version
            or claims.token_id in view.revoked
        ):
            return None
        return Session(claims, account)

    async def logout(self, token: str) -> None:
        claims = tokens.verify(self._secret, token, self._clock.time())
        if claims is None or not claims.token_id:
            return
        async with self._sessions() as session:
            await users.revoke_token(session, claims.token_id, claims.expires_at)
            await users.prune_revoked(session, int(self._clock.time()))
        self.accounts.invalidate()

    async def change_password(self, old_password: str, new_password: str) -> None:
        account = await self._current()
        if not await self._verify(account.password_hash, old_password):
            raise LoginRefused(400, "The current password is wrong")
        problem = password_problem(account.username, new_password)
        if problem is None and new_password == old_password:
            problem = "The new password must differ from the current one"
        if problem is not None:
            raise LoginRefused(400, problem)
        await self._save(account, password_hash=await self._hash(new_password))

    async def change_username(self, new_username: str) -> None:
        account = await self._current()
        name = new_username.strip()
        if not name:
            raise LoginRefused(400, "The username must not be empty")
        if name == account.username:
            raise LoginRefused(400, "The new username is the same as the current one")
        await self._save(account, username=name)

    async def _current(self) -> Account:
        self.accounts.invalidate()  # a change is checked against the database, not the cache
        return (await self.accounts.get()).account

    async def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return await self.guards.hashes.verify(password_hash, password)
        except HashPoolBusy:
            raise LoginRefused(429, "Too many logins at once; try again shortly", 1.0) from None

    async def _hash(self, password: str) -> str:
        try:
            return await self.guards.hashes.hash(password)
        except HashPoolBusy:
            raise LoginRefused(429, "Too many logins at once; try again shortly", 1.0) from None

    async def _save(
        self, account: Account, *, username: str | None = None, password_hash: str | None = None
    ) -> None:
        async with self._sessions() as session:
            await users.update_credentials(
                session, account.user_id, username=username, password_hash=password_hash
            )
        self.accounts.invalidate()

    def close(self) -> None:
        self.guards.hashes.close()


def token_lifetime(expire: int) -> int:
    """The reference's `expire`: seconds > 0, -1 = 30 days, 0 = 15 minutes; capped at 30 days."""
    if expire == -1:
        return tokens.MAX_LIFETIME
    if expire <= 0:
        return DEFAULT_LIFETIME
    return min(expire, tokens.MAX_LIFETIME)
