"""Which website ids accept hits, cached: in the process, and in Redis when REDIS_URL is set, so a
hit rarely costs a database read (ingestion.md §3 step 3)."""

from __future__ import annotations

import time
from uuid import UUID

from katsuo.store.database import Database
from katsuo.store.repositories import websites

# Umami keeps a website in Redis for 24 h and does not drop it on delete (self-hosted mode).
REDIS_TTL = 86400
KNOWN_TTL = 300.0
# Unknown ids are remembered briefly so junk traffic cannot hammer the database, yet a website
# created a moment ago starts collecting within seconds.
UNKNOWN_TTL = 5.0
MAX_ENTRIES = 100_000


class WebsiteCache:
    def __init__(self, db: Database, redis=None):
        self.db = db
        self.redis = redis
        self._entries: dict[str, tuple[bool, float]] = {}

    def cached(self, website_id: str) -> bool | None:
        """True/False when known in this process, None when a lookup is needed."""
        entry = self._entries.get(website_id)
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def lookup(self, website_id: str) -> bool:
        """Redis, then the database (blocking: call from a worker thread)."""
        key = f"katsuo:website:{website_id}"
        live = None
        if self.redis is not None:
            live = True if self.redis.get(key) else None
        if live is None:
            with self.db.connect() as conn:
                live = websites.is_live(conn, UUID(website_id))
            if live and self.redis is not None:
                self.redis.set(key, "1", ex=REDIS_TTL)
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[website_id] = (live, time.monotonic() + (KNOWN_TTL if live else UNKNOWN_TTL))
        return live

    def clear(self) -> None:
        """Forget every website known in this process (Redis entries expire on their own)."""
        self._entries.clear()

    def forget(self, website_id: str) -> None:
        """Drop a website from the caches (call after deleting it)."""
        self._entries.pop(website_id, None)
        if self.redis is not None:
            self.redis.delete(f"katsuo:website:{website_id}")
