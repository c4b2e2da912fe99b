"""Login state. Without Redis a login token is a self-contained signed JWT that names the user
(as in Umami, it does not expire). With REDIS_URL the token only names a Redis key; the key
expires after LOGIN_TTL of inactivity and logout deletes it, so a logged-out token is dead."""

from __future__ import annotations

import json
import secrets
from uuid import UUID

from katsuo.auth import tokens
from katsuo.store.records import User

LOGIN_TTL = 24 * 3600  # seconds, renewed on use


class LoginStore:
    def __init__(self, secret: str, redis_client=None):
        self.secret = secret
        self.redis = redis_client

    def issue(self, user: User) -> tuple[str, str | None]:
        """A new login token for the user, and its Redis auth key (None without Redis)."""
        if self.redis is None:
            return tokens.sign({"userId": str(user.id), "role": user.role}, self.secret), None
        auth_key = f"auth:{secrets.token_hex(16)}"
        self.redis.set(auth_key, json.dumps({"userId": str(user.id), "role": user.role}), ex=LOGIN_TTL)
        return tokens.sign({"authKey": auth_key}, self.secret), auth_key

    def resolve(self, token: str) -> tuple[UUID | None, str | None]:
        """The user id a token stands for (None if invalid, expired or logged out), and its auth key."""
        claims = tokens.verify(token, self.secret)
        if claims is None:
            return None, None
        if "userId" in claims:
            return _uuid(claims["userId"]), None
        auth_key = claims.get("authKey")
        if self.redis is None or not isinstance(auth_key, str):
            return None, None
        record = self.redis.getex(auth_key, ex=LOGIN_TTL)
        if record is None:
            return None, None
        return _uuid(json.loads(record).get("userId")), auth_key

    def revoke(self, auth_key: str | None) -> None:
        if self.redis is not None and auth_key:
            self.redis.delete(auth_key)


def _uuid(value) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None
