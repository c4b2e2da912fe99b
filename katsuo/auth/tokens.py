"""Signed tokens (HS256 JWT keyed with the derived secret S): login, share and tracker cache tokens."""

from __future__ import annotations

import time
from typing import Any

import jwt


def sign(claims: dict[str, Any], secret: str) -> str:
    return jwt.encode(
        {**claims, "iat": claims.get("iat", int(time.time()))}, secret, algorithm="HS256"
    )


def verify(token: str, secret: str, *, require: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """The claims of a valid token, or None for anything else (bad signature, garbage, expired,
    a claim of `require` missing)."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["iat", *require]}
        )
    except jwt.PyJWTError:
        return None
    return claims if isinstance(claims, dict) else None
