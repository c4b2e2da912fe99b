"""Which Umami v3 release shaped an adopted database, read from Umami's migration history.

An Umami database records each migration it applied in `_prisma_migrations`. Katsuo never
creates, alters or drops an object with an Umami name on such a database (Umami's own later
migrations must still apply), so a table or column that a later Umami release adds may be
missing; the features that need it say so with a 400 instead (docs/umami-databases.md).
A database without that table is Katsuo's own: it gets the full current schema.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import sqlalchemy as sa

from katsuo.errors import BadRequest

# Umami's migrations that add what Katsuo uses beyond Umami 3.0 (all of them came with 3.1).
SHARES = "15_add_share"  # the `share` table (3.0 kept one share id on the website row)
BOARDS = "16_boards"  # the `board` table
PERFORMANCE = "18_add_performance"  # website_event.lcp, inp, fcp, ttfb, cls
REPLAYS = "19_add_session_replay"  # session_replay, session_replay_saved, website.replay_*

RELEASES = {SHARES: "3.1", BOARDS: "3.1", PERFORMANCE: "3.1", REPLAYS: "3.1"}
PERFORMANCE_COLUMNS = ("lcp", "inp", "fcp", "ttfb", "cls")
TABLES = {
    "share": SHARES,
    "board": BOARDS,
    "session_replay": REPLAYS,
    "session_replay_saved": REPLAYS,
}
HISTORY = "_prisma_migrations"


@dataclass(frozen=True)
class Level:
    """`adopted`: the database carries Umami's migration history; `applied`: its migrations."""

    adopted: bool
    applied: frozenset[str] = frozenset()

    def has(self, migration: str) -> bool:
        return not self.adopted or migration in self.applied

    def has_table(self, name: str) -> bool:
        return self.has(TABLES[name]) if name in TABLES else True

    def require(self, migration: str, feature: str) -> None:
        """A clear 400 when `feature` needs a table or column this database lacks."""
        if not self.has(migration):
            raise BadRequest(
                f"{feature} needs Umami {RELEASES[migration]}'s schema (migration {migration}), "
                "which this Umami database lacks: upgrade Umami to use it",
                code="umami-schema-too-old",
            )


FRESH = Level(adopted=False)
_levels: weakref.WeakKeyDictionary[sa.Engine, Level] = weakref.WeakKeyDictionary()


def detect(conn: sa.Connection) -> Level:
    """Read the database's Umami migration history (none: a database of Katsuo's own). Umami v3
    runs on PostgreSQL only: another engine's database is always Katsuo's own."""
    if conn.dialect.name != "postgresql" or not sa.inspect(conn).has_table(HISTORY):
        return FRESH
    history = sa.table(
        HISTORY, sa.column("migration_name"), sa.column("finished_at"), sa.column("rolled_back_at")
    )
    names = conn.execute(
        sa.select(history.c.migration_name).where(
            history.c.finished_at.is_not(None), history.c.rolled_back_at.is_(None)
        )
    ).scalars()
    return Level(adopted=True, applied=frozenset(names))


def level(conn: sa.Connection) -> Level:
    """The database's level, detected once per engine (a restart sees an Umami upgrade)."""
    engine = conn.engine
    found = _levels.get(engine)
    if found is None:
        found = _levels[engine] = detect(conn)
    return found


def forget(engine: sa.Engine) -> None:
    """Detect again at the next use (after the migrations ran, say)."""
    _levels.pop(engine, None)


def level_of(db) -> Level:
    """The level of a `Database` (store/database.py)."""
    with db.connect() as conn:
        return level(conn)
