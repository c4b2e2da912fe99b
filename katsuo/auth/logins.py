"""Login state. Without Redis a login token is a self-contained signed JWT that names the user
(as in Umami, it does not expire). With REDIS_URL the token only names a Redis key; the key
expires after LOGIN_TTL of inactivity and logout deletes it, so a logged-out token is dead.

Either way a login carries the user's login generation at issue (`gen`: in the JWT, or in the
Redis record). A password or role change raises the user's generation in the database
(`katsuo_login_generation`), and a login whose generation is not the current one is refused, so
every earlier login of that user ends at once, with or without Redis. Checking it costs nothing
extra: the generation comes with the user row every authenticated request reads anyway.
"""

from __future__ import annotations

import json
import secrets
from typing import NamedTuple
from uuid import UUID

from katsuo.auth import tokens
from katsuo.store.records import User

LOGIN_TTL = 24 * 3600  # seconds, renewed on use


class Login(NamedTuple):
    user_id: UUID
    generation: int
    auth_key: str | None  # the Redis key, None without Redis


class LoginStore:
    def __init__(self, secret: str, redis_client=None):
        self.secret = secret
        self.redis = redis_client

    def issue(self, user: User, generation: int) -> tuple[str, str | None]:
        """A new login token for the user, and its Redis auth key (None without Redis)."""
        record = {"userId": str(user.id), "role": user.role, "gen": generation}
        if self.redis is None:
            return tokens.sign(record, self.secret), None
        auth_key = f"auth:{secrets.token_hex(16)}"
        self.redis.set(auth_key, json.dumps(record), ex=LOGIN_TTL)
        return tokens.sign({"authKey": auth_key}, self.secret), auth_key

    def resolve(self, token: str) -> Login | None:
        """What a token stands for; None if invalid, expired or logged out. Whether its generation
        is still the user's is for the caller to check against the database."""
        claims = tokens.verify(token, self.secret)
        if claims is None:
            return None
        if "userId" in claims:
            record, auth_key = claims, None
        else:
            auth_key = claims.get("authKey")
            if self.redis is None or not isinstance(auth_key, str):
                return None
            stored = self.redis.getex(auth_key, ex=LOGIN_TTL)
            if stored is None:
                return None
            record = json.loads(stored)
        # A login from before generations existed has none: it counts as generation 0.
        user_id, generation = _uuid(record.get("userId")), record.get("gen", 0)
        if user_id is None or not isinstance(generation, int):
            return None
        return Login(user_id, generation, auth_key)

    def carry_over(self, token: str, auth_key: str | None, user: User, generation: int) -> str:
        """After the user's generation was raised to `generation`, the token that keeps the login
        making the change (`token`, whose Redis key the request resolved as `auth_key`): with
        Redis the same token (its record moves to the new generation), without Redis a new one."""
        if self.redis is not None and auth_key:
            record = {"userId": str(user.id), "role": user.role, "gen": generation}
            self.redis.set(auth_key, json.dumps(record), ex=LOGIN_TTL)
            return token
        return self.issue(user, generation)[0]

    def revoke(self, auth_key: str | None) -> None:
        if self.redis is not None and auth_key:
            self.redis.delete(auth_key)


def _uuid(value) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None
