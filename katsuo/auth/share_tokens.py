"""Share tokens: what `GET /api/share/<slug>` hands out. A token names its share and expires; the
share itself is read again on every request that presents one (api/deps.py), so deleting the
share or changing what it publishes takes effect at once."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from katsuo.auth import tokens

LIFETIME_SECONDS = 24 * 3600


def issue(grant: dict[str, Any], secret: str) -> str:
    """A token of `grant` (Umami's claims: shareId, shareType, parameters and the entity ids),
    valid for LIFETIME_SECONDS."""
    issued = int(time.time())
    return tokens.sign({**grant, "iat": issued, "exp": issued + LIFETIME_SECONDS}, secret)


def share_id(token: str, secret: str) -> UUID | None:
    """The share a valid, unexpired share token names, or None."""
    claims = tokens.verify(token, secret, require=("exp",))
    try:
        return UUID(str(claims["shareId"])) if claims and claims.get("shareId") else None
    except ValueError:
        return None
