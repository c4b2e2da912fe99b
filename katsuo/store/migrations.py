"""Versioned schema changes, applied at start unless SKIP_DB_MIGRATION.

A plain ordered list rather than Alembic: the same steps must run on DuckDB, PostgreSQL and
ClickHouse, and on an existing Umami database they may only add what is missing (Umami's own
tables are never altered). Each step runs in its own transaction and is recorded in
`katsuo_schema_version`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa

from katsuo.auth.passwords import hash_password
from katsuo.store import schema, umami
from katsuo.store.database import Database

log = logging.getLogger("katsuo.migrations")

# Umami's seeded administrator, so existing links to it keep working
# (docs/schema.md#the-seeded-administrator).
DEFAULT_ADMIN_ID = "41e2b680-648e-4b09-bcd7-3e2b10c06264"


def seed_default_admin(conn: sa.Connection) -> None:
    """First start gets the default account; an adopted Umami database already has its users."""
    if conn.execute(sa.select(sa.func.count()).select_from(schema.user)).scalar() == 0:
        conn.execute(
            schema.user.insert().values(
                user_id=DEFAULT_ADMIN_ID,
                username="admin",
                password=hash_password("umami"),
                role="admin",
                created_at=sa.func.current_timestamp(),
            )
        )
        log.info("created the default account admin / umami: change its password")


def _umami_schema(db: Database, conn: sa.Connection) -> None:
    # An adopted Umami database keeps its tables as its own migrations left them: creating a
    # table of a later Umami release here would make that release's migration fail.
    if not umami.detect(conn).adopted:
        db.engines.create_tables(conn, list(schema.UMAMI_TABLES))
    seed_default_admin(conn)


def _api_keys(db: Database, conn: sa.Connection) -> None:
    db.engines.create_tables(conn, [schema.api_key])


def _visit_slices(db: Database, conn: sa.Connection) -> None:
    # Only the empty tables: the read path fills them in the background (analytics/slices.py).
    tables = [schema.visit_slice, schema.slice_pending, schema.slice_session, schema.slice_state]
    db.engines.create_tables(conn, tables)


def _journey_slices(db: Database, conn: sa.Connection) -> None:
    # The journey dimension's partition and longer values; the slices are rebuilt at the next
    # start (or by `katsuo slices rebuild`) so that every visit gets its journey row.
    db.engines.create_tables(conn, [schema.visit_slice])
    conn.execute(schema.slice_state.delete())


def _collect_journal(db: Database, conn: sa.Connection) -> None:
    db.engines.create_tables(conn, [schema.collect_journal])


def _login_generations(db: Database, conn: sa.Connection) -> None:
    db.engines.create_tables(conn, [schema.login_generation])


def _deletions(db: Database, conn: sa.Connection) -> None:
    db.engines.create_tables(conn, [schema.deleted_id, schema.purge])


def _slice_catch_up(db: Database, conn: sa.Connection) -> None:
    # The catch-up's per-hour counts start from a rebuild: the next start rebuilds the slices.
    db.engines.create_tables(conn, [schema.slice_count, schema.slice_stale])
    conn.execute(schema.slice_state.delete())


def _rebuild_parts_by_time(db: Database, conn: sa.Connection) -> None:
    db.engines.create_tables(conn, [schema.slice_part])


def _website_retention(db: Database, conn: sa.Connection) -> None:
    db.engines.create_tables(conn, [schema.website_retention])


MIGRATIONS: list[tuple[int, str, Callable[[Database, sa.Connection], None]]] = [
    (1, "Umami v3 schema and default account", _umami_schema),
    (2, "API keys", _api_keys),
    (3, "visit slices of the read path", _visit_slices),
    (4, "journey visit slices", _journey_slices),
    (5, "collect journal position", _collect_journal),
    (6, "login generations", _login_generations),
    (7, "deleted entity ids and pending purges", _deletions),
    (8, "visit slices follow the events whoever writes them", _slice_catch_up),
    (9, "per-website retention", _website_retention),
    (10, "slice rebuild parts by time", _rebuild_parts_by_time),
]


def applied_versions(db: Database) -> set[int]:
    with db.begin() as conn:
        db.engines.create_tables(conn, [schema.schema_version])
        return set(conn.execute(sa.select(schema.schema_version.c.version)).scalars())


def pending(db: Database) -> list[tuple[int, str]]:
    done = applied_versions(db)
    return [(version, name) for version, name, _ in MIGRATIONS if version not in done]


def migrate(db: Database) -> list[str]:
    """Apply every pending step; returns the names of the steps applied."""
    done = applied_versions(db)
    applied = []
    for version, name, step in MIGRATIONS:
        if version in done:
            continue
        with db.begin() as conn:
            step(db, conn)
            conn.execute(schema.schema_version.insert().values(version=version, name=name))
        log.info("migration %d applied: %s", version, name)
        applied.append(name)
    umami.forget(db.engine)
    level = umami.level_of(db)
    if level.adopted:
        missing = sorted(set(umami.RELEASES) - level.applied)
        log.info(
            "adopted Umami database; Umami migrations it lacks: %s", ", ".join(missing) or "none"
        )
    if db.separate_events:
        # ClickHouse's tables: CREATE … IF NOT EXISTS at every start (no transactions there).
        with db.events.connect() as conn:
            db.events.engines.create_tables(
                conn, list(db.events.engines.TABLES), db.settings.clickhouse_cluster
            )
    return applied
