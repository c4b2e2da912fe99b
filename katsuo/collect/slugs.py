"""Slug → link or pixel for `/q/<slug>` and `/p/<slug>`, cached briefly: a link shared widely is
looked up a few times a minute, not per click.

A change made through this process (create, update, delete of a link or pixel) empties the cache
once it committed. Another process sharing the database learns of a change when its entry expires:
answers are at most TTL seconds stale across processes.
"""

from __future__ import annotations

import threading
import time

from katsuo.store.database import Database
from katsuo.store.repositories import links, pixels

TTL = 5.0
MAX_ENTRIES = 10_000
MAX_SLUG_LENGTH = 100  # the slug column's size
_LOOKUPS = {"link": links.get_by_slug, "pixel": pixels.get_by_slug}


def well_formed(slug: str) -> bool:
    """Whether `slug` could be stored at all: anything else (control characters such as NUL,
    lone surrogates, too long) is no slug of anything, and is not sent to the database."""
    if not 0 < len(slug) <= MAX_SLUG_LENGTH:
        return False
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in slug):
        return False
    try:
        slug.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class SlugCache:
    def __init__(self, db: Database):
        self.db = db
        self._entries: dict[tuple[str, str], tuple[object, float]] = {}
        # Bumped by clear(): a lookup that raced a change does not store what it read before it.
        self._generation = 0
        self._lock = threading.Lock()

    def cached(self, kind: str, slug: str) -> tuple[bool, object]:
        """(True, row or None) when known in this process, (False, None) when a lookup is needed."""
        entry = self._entries.get((kind, slug))
        if entry is None or entry[1] < time.monotonic():
            return False, None
        return True, entry[0]

    def lookup(self, kind: str, slug: str):
        """The live link or pixel with this slug, or None (blocking: call from a worker thread)."""
        generation = self._generation
        with self.db.connect() as conn:
            row = _LOOKUPS[kind](conn, slug)
        with self._lock:
            if generation == self._generation:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._entries[(kind, slug)] = (row, time.monotonic() + TTL)
        return row

    def clear(self) -> None:
        """Forget every slug (call once a change to a link or pixel committed)."""
        with self._lock:
            self._generation += 1
            self._entries.clear()
