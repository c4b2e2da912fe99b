"""Which website, link and pixel ids accept hits, cached: in the process, and in Redis when
REDIS_URL is set, so a hit rarely costs a database read. A hit names the kind it is for
(`website`, `link` or `pixel` in the payload), and only a live entity of that kind accepts it."""

from __future__ import annotations

import time
from uuid import UUID

from katsuo.store.database import Database
from katsuo.store.repositories import links, pixels, websites

# Umami keeps a website in Redis for 24 h and does not drop it on delete (self-hosted mode).
REDIS_TTL = 86400
KNOWN_TTL = 300.0
# Unknown ids are remembered briefly so junk traffic cannot hammer the database, yet a website
# created a moment ago starts collecting within seconds.
UNKNOWN_TTL = 5.0
MAX_ENTRIES = 100_000
KINDS = ("website", "link", "pixel")


def _is_live(conn, kind: str, entity_id: UUID) -> bool:
    if kind == "website":
        return websites.is_live(conn, entity_id)
    return (links if kind == "link" else pixels).get(conn, entity_id) is not None


def _redis_key(kind: str, entity_id: str) -> str:
    return f"katsuo:{kind}:{entity_id}"


class WebsiteCache:
    def __init__(self, db: Database, redis=None):
        self.db = db
        self.redis = redis
        self._entries: dict[str, tuple[bool, float]] = {}

    def cached(self, entity_id: str, kind: str = "website") -> bool | None:
        """True/False when known in this process, None when a lookup is needed."""
        entry = self._entries.get(f"{kind}:{entity_id}")
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def lookup(self, entity_id: str, kind: str = "website") -> bool:
        """Redis, then the database (blocking: call from a worker thread)."""
        key = _redis_key(kind, entity_id)
        live = None
        if self.redis is not None:
            live = True if self.redis.get(key) else None
        if live is None:
            with self.db.connect() as conn:
                live = _is_live(conn, kind, UUID(entity_id))
            if live and self.redis is not None:
                self.redis.set(key, "1", ex=REDIS_TTL)
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        expires = time.monotonic() + (KNOWN_TTL if live else UNKNOWN_TTL)
        self._entries[f"{kind}:{entity_id}"] = (live, expires)
        return live

    def clear(self) -> None:
        """Forget every website known in this process (Redis entries expire on their own)."""
        self._entries.clear()

    def forget(self, entity_id: str) -> None:
        """Drop an id, of whichever kind, from the caches (call after deleting it)."""
        for kind in KINDS:
            self._entries.pop(f"{kind}:{entity_id}", None)
        if self.redis is not None:
            self.redis.delete(*(_redis_key(kind, entity_id) for kind in KINDS))
