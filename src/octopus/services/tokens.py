"""Signed session tokens (HMAC-SHA256 over a compact JSON payload) with a per-install secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

MAX_LIFETIME = 30 * 24 * 3600


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    version: int  # the user's token_version when issued
    issued_at: int
    expires_at: int
    token_id: str = ""  # names this token in the revocation list (logout)


def new_secret() -> str:
    return secrets.token_urlsafe(48)


def new_token_id() -> str:
    return secrets.token_urlsafe(16)


def issue(secret: str, claims: TokenClaims) -> str:
    payload = json.dumps(
        {
            "u": claims.user_id,
            "v": claims.version,
            "iat": claims.issued_at,
            "exp": claims.expires_at,
            "j": claims.token_id,
        },
        separators=(",", ":"),
    ).encode()
    body = _b64(payload)
    return body + "." + _b64(_sign(secret, body))


def verify(secret: str, token: str, now: float) -> TokenClaims | None:
    """The claims of a token this install signed and that has not expired, else None."""
    body, _, signature = token.partition(".")
    if not body or not signature:
        return None
    if not hmac.compare_digest(_b64(_sign(secret, body)), signature):
        return None
    try:
        data = json.loads(_unb64(body))
        claims = TokenClaims(
            int(data["u"]), int(data["v"]), int(data["iat"]), int(data["exp"]), str(data["j"])
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return claims if claims.expires_at > now else None


def _sign(secret: str, body: str) -> bytes:
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
