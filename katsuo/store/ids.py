"""Random row ids: UUID v4, or time-ordered v7 when USE_UUIDV7 is set (as in Umami)."""

from __future__ import annotations

import os
import secrets
import string
import time
import uuid

_use_v7 = False


def configure(use_uuidv7: bool) -> None:
    global _use_v7
    _use_v7 = use_uuidv7


def new_id() -> uuid.UUID:
    return _uuid7() if _use_v7 else uuid.uuid4()


_ALPHANUMERIC = string.ascii_letters + string.digits


def random_chars(length: int) -> str:
    """Random letters and digits, as Umami generates share slugs and team access codes."""
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def _uuid7() -> uuid.UUID:
    # RFC 9562 §5.7: 48-bit unix ms, version 7, 74 random bits, variant 10.
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    return uuid.UUID(int=value)
