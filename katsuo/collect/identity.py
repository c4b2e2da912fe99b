"""Session and visit ids, derived exactly as Umami derives them (docs/ids.md), so the same
visitor gets the same ids here as there. No cookie and no stored IP: only salted hashes."""

from __future__ import annotations

import hashlib
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import lru_cache

# Visits are re-derived after this many seconds since the visit's token was issued
# (docs/ids.md#visit-ids).
VISIT_WINDOW = 1800


def sha512_hex(*parts: str | None) -> str:
    """H(x…): hex SHA-512 of the plain concatenation; missing parts count as ''."""
    return hashlib.sha512("".join(part or "" for part in parts).encode()).hexdigest()


def _uuid_text(raw: bytes, version: int) -> str:
    """RFC 9562 text form of 16 bytes with the version and variant bits set (what uuid.UUID
    would print, without building the object: this runs several times per hit)."""
    data = bytearray(raw[:16])
    data[6] = (data[6] & 0x0F) | (version << 4)
    data[8] = (data[8] & 0x3F) | 0x80
    text = data.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_DNS = uuid.NAMESPACE_DNS.bytes


def derived_id(secret: str, *parts: str | None) -> str:
    """U(x…): UUID v5 in the DNS namespace of H(x…, secret)."""
    return _uuid_text(hashlib.sha1(_DNS + sha512_hex(*parts, secret).encode()).digest(), 5)


_random_bits = random.SystemRandom().getrandbits(64)
_generator = random.Random(_random_bits ^ os.getpid() ^ time.time_ns())


def random_id() -> str:
    """A random (v4) UUID string, for row ids. Row ids are not secrets: a seeded generator is used
    instead of os.urandom, whose system call releases the GIL and then waits for the writer
    thread to hand it back (measured at ~0.4 ms per id under load)."""
    return _uuid_text(_generator.getrandbits(128).to_bytes(16, "big"), 4)


def _rfc1123(moment: datetime) -> str:
    # JavaScript's Date.toUTCString(), e.g. "Fri, 01 May 2026 00:00:00 GMT".
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def period_start(moment: datetime, rotation: str) -> datetime:
    """Start of the salt period. Umami computes it in the server's time zone; Katsuo always uses
    UTC, which is what a server run in UTC (the usual deployment) produces."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if rotation == "day":
        return day
    if rotation == "week":  # weeks start on Sunday
        return day - timedelta(days=(day.weekday() + 1) % 7)
    return day.replace(day=1)


@lru_cache(maxsize=128)
def _salt(hour: int, period: str) -> str:
    """The salt of the period ("hour", or a rotation: "day", "week", "month") that holds the UTC
    hour numbered `hour` since the epoch. Every period starts on an hour, so the hour decides
    it, and the hashing is done once per hour rather than per hit."""
    start = datetime.fromtimestamp(hour * 3600, UTC)
    return sha512_hex(_rfc1123(start if period == "hour" else period_start(start, period)))


def _hour(moment: datetime) -> int:
    return int(moment.timestamp() // 3600)


def session_salt(moment: datetime, rotation: str) -> str:
    return _salt(_hour(moment), rotation)


def hour_salt(moment: datetime) -> str:
    return _salt(_hour(moment), "hour")


def session_id(
    secret: str,
    source_id: str,
    *,
    distinct_id: str | None,
    ip: str,
    user_agent: str,
    moment: datetime,
    rotation: str,
) -> str:
    """With a distinct id: one session per (website, id) forever; else per visitor and period."""
    if distinct_id:
        return derived_id(secret, source_id, distinct_id)
    return derived_id(secret, source_id, ip, user_agent, session_salt(moment, rotation))


def visit_id(secret: str, session: str, moment: datetime) -> str:
    return derived_id(secret, session, hour_salt(moment))
