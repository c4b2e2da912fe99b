"""Moving a ClickHouse database laid out by Katsuo before it took Umami's layout (a `session` table
and `website_event` without the session attributes, every table in store/schema.py's columns)
into Umami's layout (clickhouse_layout.py).

The old tables are renamed `katsuo_r1_<name>` and kept: the operator drops them once satisfied.
The new layout is created, then every old row is copied into it — each event with its session's
attributes, each event datum with its event's session, path and name — and the materialized
views derive `katsuo_session` and the rollups from the copied events. A session without any event
is not copied: in Umami's layout a session exists through its events. Single servers only; on a
cluster the start stops with the steps to take by hand.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from katsuo.store.engines import clickhouse_layout as layout

log = logging.getLogger("katsuo.clickhouse")

OLD = ("website_event", "session", "event_data", "session_data", "revenue")
PREFIX = "katsuo_r1_"


def _columns(conn: sa.Connection, table: str) -> set[str]:
    rows = conn.exec_driver_sql(
        "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = %(t)s",
        {"t": table},
    )
    return {row[0] for row in rows}


def needed(conn: sa.Connection) -> bool:
    """Whether the database holds the old layout: Katsuo's `session` table beside a
    `website_event` that has no session attributes."""
    events = _columns(conn, "website_event")
    return (
        bool(events)
        and "browser" not in events
        and "first_at" not in events
        and bool(_columns(conn, "session") & {"session_id", "browser"})
    )


def _text(name: str, alias: str = "e") -> tuple[str, str]:
    return name, f"ifNull(toString({alias}.{name}), '')"


def _same(alias: str, *names: str) -> list[tuple[str, str]]:
    return [(name, f"{alias}.{name}") for name in names]


_VALUES = [
    *_same("d", "data_key", "string_value", "number_value", "date_value"),
    ("data_type", "toUInt32(d.data_type)"),
]
# Per table of Umami's layout: its columns as expressions over the renamed old tables, the FROM
# clause, and the old tables it reads.
_COPIES = {
    "website_event": (
        [
            *_same("e", "website_id", "session_id", "visit_id", "event_id"),
            _text("hostname"),
            *(_text(name, "s") for name in (*layout.SESSION_ATTRIBUTES, "distinct_id")),
            *_same("e", "url_path"),
            *(_text(name) for name in layout.EVENT_TEXT),
            *_same("e", "lcp", "inp", "cls", "fcp", "ttfb"),
            ("event_type", "toUInt32(e.event_type)"),
            _text("event_name"),
            _text("tag"),
            *_same("e", "created_at"),
        ],
        f"{PREFIX}website_event AS e LEFT JOIN {PREFIX}session AS s ON s.session_id = e.session_id",
        ("website_event", "session"),
    ),
    "event_data": (
        [
            *_same("d", "website_id"),
            *_same("e", "session_id"),
            ("event_id", "d.website_event_id"),
            *_same("e", "url_path"),
            _text("event_name"),
            *_VALUES,
            *_same("d", "created_at"),
        ],
        (
            f"{PREFIX}event_data AS d INNER JOIN {PREFIX}website_event AS e "
            "ON e.event_id = d.website_event_id"
        ),
        ("event_data", "website_event"),
    ),
    "session_data": (
        [
            *_same("d", "website_id", "session_id"),
            *_VALUES,
            _text("distinct_id", "d"),
            *_same("d", "created_at"),
        ],
        f"{PREFIX}session_data AS d",
        ("session_data",),
    ),
    "website_revenue": (
        _same(
            "r",
            "website_id",
            "session_id",
            "event_id",
            "event_name",
            "currency",
            "revenue",
            "created_at",
        ),
        f"{PREFIX}revenue AS r",
        ("revenue",),
    ),
}


def upgrade(conn: sa.Connection, cluster: str) -> None:
    """Rename the old tables, create Umami's layout and copy every row into it."""
    if cluster:
        raise RuntimeError(
            "this ClickHouse database has the layout of an earlier Katsuo (a `session` table); "
            "on a cluster it is not moved automatically: see "
            "docs/clickhouse.md#upgrading-from-katsuos-first-layout"
        )
    present = [name for name in OLD if _columns(conn, name)]
    log.warning(
        "ClickHouse: moving %s to Umami's layout; the old tables are kept as %s<name>",
        ", ".join(present),
        PREFIX,
    )
    conn.exec_driver_sql(
        "RENAME TABLE " + ", ".join(f"`{name}` TO `{PREFIX}{name}`" for name in present)
    )
    layout.create(conn)
    for target, (columns, source, reads) in _COPIES.items():
        if not set(reads) <= set(present):
            continue
        names = ", ".join(f"`{name}`" for name, _ in columns)
        select = ", ".join(expression for _, expression in columns)
        conn.exec_driver_sql(f"INSERT INTO `{target}` ({names}) SELECT {select} FROM {source}")
        copied = conn.exec_driver_sql(f"SELECT count() FROM `{target}`").scalar()
        log.warning("ClickHouse: %s: %d rows in Umami's layout", target, copied)
