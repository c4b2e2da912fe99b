"""Self-hosted API keys: random secrets shown once, stored only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "katsuo_"


def generate() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def looks_like_key(value: str) -> bool:
    return value.startswith(PREFIX)


def display_prefix(key: str) -> str:
    """What lists show so a user can tell keys apart: the first characters after the marker."""
    return key[: len(PREFIX) + 6]
