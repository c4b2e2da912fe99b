"""ClickHouse's layout: Umami 3.1's tables (session attributes on every event row, the hourly
rollup), plus the `katsuo_*` objects that let Katsuo's one schema be read from them.

A database whose `website_event` already exists is adopted as it is: only `katsuo_*` objects are
created there, never one with an Umami name, and nothing of Umami's is altered or dropped. A fresh
database gets Umami's tables too, with DateTime64(6) times (Katsuo keeps microseconds; Umami's own
DDL has seconds) and without Umami's `website_revenue_mv` (Katsuo's writer stores revenue as on
the other engines). Everything Katsuo derives is fed by materialized views, so it follows the
events whoever inserts them (Umami beside Katsuo included), except the pointer rows, which need
earlier inserts than a view sees and are kept by analytics/pointer_upkeep.py. See docs/clickhouse.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

# Seconds on an adopted Umami database; microseconds where Katsuo creates the tables.
TIME = "DateTime64(6, 'UTC')"
_LOW = "LowCardinality(String)"
SESSION_ATTRIBUTES = ("browser", "os", "device", "screen", "language", "country", "region", "city")


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]
    engine: str
    keys: str  # PARTITION BY / ORDER BY / PRIMARY KEY … clauses
    shard_by: str  # the column a cluster's Distributed table shards by
    # A rollup's layout beyond its columns (what its view writes), kept as the table's comment:
    # a rollup made with another is rebuilt at start (create).
    version: str = ""


def _strings(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, "String") for name in names)


WEBSITE_EVENT = Table(
    "website_event",
    (
        ("website_id", "UUID"),
        ("session_id", "UUID"),
        ("visit_id", "UUID"),
        ("event_id", "UUID"),
        ("hostname", _LOW),
        *((name, _LOW) for name in SESSION_ATTRIBUTES[:-1]),
        ("city", "String"),
        *_strings("url_path", "url_query", "utm_source", "utm_medium", "utm_campaign"),
        *_strings("utm_content", "utm_term", "referrer_path", "referrer_query", "referrer_domain"),
        *_strings("page_title", "gclid", "fbclid", "msclkid", "ttclid", "li_fat_id", "twclid"),
        ("lcp", "Nullable(Decimal(10, 1))"),
        ("inp", "Nullable(Decimal(10, 1))"),
        ("cls", "Nullable(Decimal(10, 4))"),
        ("fcp", "Nullable(Decimal(10, 1))"),
        ("ttfb", "Nullable(Decimal(10, 1))"),
        ("event_type", "UInt32"),
        *_strings("event_name", "tag", "distinct_id"),
        ("created_at", TIME),
        ("job_id", "Nullable(UUID)"),
    ),
    "MergeTree",
    "PARTITION BY toYYYYMM(created_at)\n"
    "ORDER BY (toStartOfHour(created_at), website_id, session_id, visit_id, created_at)\n"
    "PRIMARY KEY (toStartOfHour(created_at), website_id, session_id, visit_id)",
    "session_id",
)


def _data_values() -> tuple[tuple[str, str], ...]:
    return (
        ("data_key", "String"),
        ("string_value", "Nullable(String)"),
        ("number_value", "Nullable(Decimal(22, 4))"),
        ("date_value", f"Nullable({TIME})"),
        ("data_type", "UInt32"),
    )


EVENT_DATA = Table(
    "event_data",
    (
        ("website_id", "UUID"),
        ("session_id", "UUID"),
        ("event_id", "UUID"),
        ("url_path", "String"),
        ("event_name", "String"),
        *_data_values(),
        ("created_at", TIME),
        ("job_id", "Nullable(UUID)"),
    ),
    "MergeTree",
    "ORDER BY (website_id, event_id, data_key, created_at)",
    "session_id",
)

SESSION_DATA = Table(
    "session_data",
    (
        ("website_id", "UUID"),
        ("session_id", "UUID"),
        *_data_values(),
        ("distinct_id", "String"),
        ("created_at", TIME),
        ("job_id", "Nullable(UUID)"),
    ),
    "ReplacingMergeTree",
    "ORDER BY (website_id, session_id, data_key)",
    "session_id",
)

WEBSITE_REVENUE = Table(
    "website_revenue",
    (
        ("website_id", "UUID"),
        ("session_id", "UUID"),
        ("event_id", "UUID"),
        ("event_name", "String"),
        ("currency", "String"),
        ("revenue", "Decimal(18, 4)"),
        ("created_at", TIME),
    ),
    "MergeTree",
    "PARTITION BY toYYYYMM(created_at)\nORDER BY (website_id, session_id, created_at)",
    "session_id",
)

_HOUR = "DateTime('UTC')"
_LIST = "SimpleAggregateFunction(groupArrayArray, Array(String))"
# website_event's optional text columns beside url_path (NULL in Katsuo's schema, '' in Umami's).
EVENT_TEXT = (
    "url_query",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "referrer_path",
    "referrer_query",
    "referrer_domain",
    "page_title",
    "gclid",
    "fbclid",
    "msclkid",
    "ttclid",
    "li_fat_id",
    "twclid",
)
# The columns the hourly rollup keeps as lists of values.
_LISTED = ("url_path", *(n for n in EVENT_TEXT if n not in ("referrer_path", "referrer_query")))
STATS_HOURLY = Table(
    "website_event_stats_hourly",
    (
        ("website_id", "UUID"),
        ("session_id", "UUID"),
        ("visit_id", "UUID"),
        ("hostname", _LIST),
        *((name, _LOW) for name in SESSION_ATTRIBUTES[:-1]),
        ("city", "String"),
        ("entry_url", f"AggregateFunction(argMin, String, {_HOUR})"),
        ("exit_url", f"AggregateFunction(argMax, String, {_HOUR})"),
        *((name, _LIST) for name in _LISTED),
        ("event_type", "UInt32"),
        ("event_name", _LIST),
        ("views", "SimpleAggregateFunction(sum, UInt64)"),
        ("min_time", f"SimpleAggregateFunction(min, {_HOUR})"),
        ("max_time", f"SimpleAggregateFunction(max, {_HOUR})"),
        ("tag", _LIST),
        ("distinct_id", "String"),
        ("created_at", _HOUR),
    ),
    "AggregatingMergeTree",
    "PARTITION BY toYYYYMM(created_at)\n"
    "ORDER BY (website_id, event_type, toStartOfHour(created_at), cityHash64(visit_id), visit_id)\n"
    "SAMPLE BY cityHash64(visit_id)",
    "visit_id",
)

# Katsuo's session rows, derived from the events: per session its first event's time and that
# event's attributes. min and argMin give the same answer however often an event is counted, so
# the view may be backfilled while it already runs.
KATSUO_SESSION = Table(
    "katsuo_session",
    (
        ("website_id", "UUID"),
        ("session_id", "UUID"),
        ("first_at", f"SimpleAggregateFunction(min, {TIME})"),
        (
            "attributes",
            f"AggregateFunction(argMin, Tuple({', '.join(['String'] * 9)}), {TIME})",
        ),
    ),
    "AggregatingMergeTree",
    "ORDER BY (website_id, session_id)",
    "session_id",
)

# Katsuo's rollups (analytics/rollups.py reads them). Per website, hour, column and non-empty
# value of a view (custom events: their name), the events and the exact set of their sessions; per visit
# and hour, its views and their first and last time. Both are exact, whatever the range: a
# range's whole hours come from here, its partial hours from the events, and uniqExact states
# merge into the exact count of distinct sessions.
# The session attributes are not among them: the visit rollup keys its rows by those.
ROLLUP_COLUMNS = ("url_path", "referrer_domain", "hostname", "page_title", "event_name")
KATSUO_HOURLY = Table(
    "katsuo_hourly",
    (
        ("website_id", "UUID"),
        ("hour", _HOUR),
        ("kind", _LOW),
        ("value", "String"),
        ("hits", "SimpleAggregateFunction(sum, UInt64)"),
        ("sessions", "AggregateFunction(uniqExact, UUID)"),
    ),
    "AggregatingMergeTree",
    "PARTITION BY toYYYYMM(hour)\nORDER BY (website_id, kind, hour, value)",
    "website_id",
    # 2: no session attributes among the kinds; 3: no '' value for views.
    version="katsuo layout 3",
)
# The visit rollup also keys each row by the session attributes its events carry (one set per
# visit from Katsuo's writer), so that metrics per attribute (their tables, expanded or not,
# the breakdown, filters on them) come from it too.
_VISIT_ATTRIBUTES = tuple(
    (name, kind) for name, kind in WEBSITE_EVENT.columns if name in SESSION_ATTRIBUTES
)
KATSUO_VISIT_HOURLY = Table(
    "katsuo_visit_hourly",
    (
        ("website_id", "UUID"),
        ("hour", _HOUR),
        ("session_id", "UUID"),
        ("visit_id", "UUID"),
        *_VISIT_ATTRIBUTES,
        ("hits", "SimpleAggregateFunction(sum, UInt64)"),
        ("first_at", f"SimpleAggregateFunction(min, {TIME})"),
        ("last_at", f"SimpleAggregateFunction(max, {TIME})"),
    ),
    "AggregatingMergeTree",
    "PARTITION BY toYYYYMM(hour)\n"
    f"ORDER BY (website_id, hour, session_id, visit_id, {', '.join(SESSION_ATTRIBUTES)})",
    "session_id",
)
ROLLUPS = (KATSUO_HOURLY, KATSUO_VISIT_HOURLY)
# Katsuo's pointer rows (analytics/pointer_upkeep.py keeps them, pointers.py reads them): per
# website and whole hour, parallel arrays of entries (kind, value, start hour, previous hour,
# amount), and the figures of the events they were computed from. The last row written per hour
# is the one read (FINAL).
KATSUO_POINTERS = Table(
    "katsuo_pointer_hourly",
    (
        ("website_id", "UUID"),
        ("hour", _HOUR),
        ("kind", f"Array({_LOW})"),
        ("value", "Array(String)"),
        ("start_hour", f"Array({_HOUR})"),
        ("prev_hour", f"Array({_HOUR})"),
        ("amount", "Array(Int64)"),
        ("events", "UInt64"),
        ("fingerprint", "UInt64"),
        ("events_before", "UInt64"),
        ("fingerprint_before", "UInt64"),
    ),
    "ReplacingMergeTree",
    "PARTITION BY toYYYYMM(hour)\nORDER BY (website_id, hour)",
    "website_id",
    # Changed with the entries the rows keep (analytics/pointer_entries.py); 2: the
    # totals of /stats, with each entry's start hour.
    version="katsuo pointers 2",
)

UMAMI_TABLES = (WEBSITE_EVENT, EVENT_DATA, SESSION_DATA, WEBSITE_REVENUE, STATS_HOURLY)
# Everything Katsuo may truncate or delete from (tests, `katsuo copy --force`).
STORED_TABLES = (*UMAMI_TABLES, KATSUO_SESSION, *ROLLUPS, KATSUO_POINTERS)

_EVENT_TIME = "toDateTime64(created_at, 6, 'UTC')"


def _session_select(source: str) -> str:
    attributes = ", ".join(f"toString({name})" for name in (*SESSION_ATTRIBUTES, "distinct_id"))
    return (
        f"SELECT website_id, session_id, min({_EVENT_TIME}) AS first_at, "
        f"argMinState(tuple({attributes}), {_EVENT_TIME}) AS attributes\n"
        f"FROM {source}\nGROUP BY website_id, session_id"
    )


HOUR_OF_EVENT = "toStartOfHour(toDateTime(created_at, 'UTC'))"
# A view's referrer as the referrer metric counts it: self-referrals and '' left out ('' here).
_REFERRER = (
    "if(referrer_domain != '' AND hostname != '' "
    "AND referrer_domain != replaceRegexpOne(hostname, '^www.', ''), referrer_domain, '')"
)


def rollup_value(column: str) -> str:
    """The value katsuo_hourly keeps of an event's `column` (SQL over website_event)."""
    return _REFERRER if column == "referrer_domain" else f"toString({column})"


def hourly_select(source: str, where: str = "1") -> str:
    """katsuo_hourly's rows of the events of `source` matching `where`: custom events by name
    ('' for one without), views by every other column of ROLLUP_COLUMNS except where it is ''
    (no metric counts those; the referrer's '' held more than half of its state elements)."""
    pairs = ", ".join(
        f"('{name}', {rollup_value(name)})" for name in ROLLUP_COLUMNS if name != "event_name"
    )
    return (
        f"SELECT website_id, {HOUR_OF_EVENT} AS hour, pair.1 AS kind, pair.2 AS value, "
        "count() AS hits, uniqExactState(session_id) AS sessions\n"
        f"FROM {source}\n"
        f"ARRAY JOIN if(event_type = 2, [('event_name', {rollup_value('event_name')})], [{pairs}]) AS pair\n"
        f"WHERE event_type != 5 AND (pair.2 != '' OR event_type = 2) AND ({where})\n"
        "GROUP BY website_id, hour, kind, value"
    )


def visit_hourly_select(source: str, where: str = "1") -> str:
    """katsuo_visit_hourly's rows of the events of `source` matching `where`."""
    attributes = ", ".join(SESSION_ATTRIBUTES)
    return (
        f"SELECT website_id, {HOUR_OF_EVENT} AS hour, session_id, visit_id, {attributes}, "
        f"count() AS hits, min({_EVENT_TIME}) AS first_at, max({_EVENT_TIME}) AS last_at\n"
        f"FROM {source}\nWHERE event_type NOT IN (2, 5) AND ({where})\n"
        f"GROUP BY website_id, hour, session_id, visit_id, {attributes}"
    )


ROLLUP_SELECTS = {KATSUO_HOURLY.name: hourly_select, KATSUO_VISIT_HOURLY.name: visit_hourly_select}


def _stats_hourly_select(source: str) -> str:
    """Umami's hourly rollup of website_event, per visit and hour (written anew, same columns)."""
    listed = ",\n  ".join(
        f"arrayFilter(x -> x != ''{' AND x != hostname' if name == 'referrer_domain' else ''}, "
        f"groupArray({name})) AS {name}_list"
        for name in _LISTED
    )
    grouped = (
        "website_id, session_id, visit_id, hostname, browser, os, device, screen, language, "
        "country, region, city, event_type, distinct_id"
    )
    return (
        f"SELECT {grouped},\n"
        "  arrayFilter(x -> x != '', groupArray(hostname)) AS hostname_list,\n"
        "  argMinState(url_path, at) AS entry_url, argMaxState(url_path, at) AS exit_url,\n"
        f"  {listed},\n"
        "  if(event_type = 2, groupArray(event_name), []) AS event_name_list,\n"
        "  sumIf(1, event_type NOT IN (2, 5)) AS views,\n"
        "  min(at) AS min_time, max(at) AS max_time,\n"
        "  arrayFilter(x -> x != '', groupArray(tag)) AS tag_list,\n"
        "  toStartOfHour(at) AS hour\n"
        f"FROM (SELECT *, toDateTime(created_at, 'UTC') AS at FROM {source})\n"
        f"GROUP BY {grouped}, hour"
    )


def _stats_hourly_mv(source: str) -> str:
    columns = [name for name, _ in STATS_HOURLY.columns]
    listed = {*_LISTED, "hostname", "event_name", "tag"}
    picked = ", ".join(
        f"{c}_list AS {c}" if c in listed else "hour AS created_at" if c == "created_at" else c
        for c in columns
    )
    return f"SELECT {picked}\nFROM ({_stats_hourly_select(source)})"


def _nullable(name: str) -> str:
    # Umami stores a missing text as ''; Katsuo's schema (and every other engine) has NULL.
    return f"nullIf(toString({name}), '') AS {name}"


def _views() -> dict[str, str]:
    """Katsuo's tables (store/schema.py), each a view over Umami's: same names and meaning of
    columns as on the other engines."""
    event_columns = [
        "event_id",
        "website_id",
        "session_id",
        "visit_id",
        f"{_EVENT_TIME} AS created_at",
        "url_path",
        *(_nullable(name) for name in EVENT_TEXT),
        "toInt32(event_type) AS event_type",
        _nullable("event_name"),
        _nullable("tag"),
        _nullable("hostname"),
        "lcp",
        "inp",
        "fcp",
        "ttfb",
        "cls",
        # Not Katsuo's event columns: the session's, which reads take from the event rows
        # instead of joining the session (clickhouse_io.attributes_on_rows).
        *(_nullable(name) for name in (*SESSION_ATTRIBUTES, "distinct_id")),
    ]
    names = (*SESSION_ATTRIBUTES, "distinct_id")
    session_columns = [
        "session_id",
        "website_id",
        *(f"nullIf(state.{i + 1}, '') AS {name}" for i, name in enumerate(names)),
        "created_at",
    ]
    data_values = (
        "data_key, string_value, number_value, "
        "toDateTime64(date_value, 6, 'UTC') AS date_value, toInt32(data_type) AS data_type"
    )
    return {
        "katsuo_v_website_event": f"SELECT {', '.join(event_columns)}\nFROM website_event",
        "katsuo_v_session": (
            f"SELECT {', '.join(session_columns)}\n"
            "FROM (SELECT website_id, session_id, min(first_at) AS created_at, "
            "argMinMerge(attributes) AS state FROM katsuo_session GROUP BY website_id, session_id)"
        ),
        "katsuo_v_event_data": (
            "SELECT reinterpretAsUUID(MD5(concat(toString(event_id), '/', data_key))) "
            "AS event_data_id, website_id, event_id AS website_event_id, "
            f"{data_values}, {_EVENT_TIME} AS created_at\nFROM event_data"
        ),
        "katsuo_v_session_data": (
            "SELECT reinterpretAsUUID(MD5(concat(toString(session_id), '/', data_key))) "
            f"AS session_data_id, website_id, session_id, {data_values}, "
            f"{_nullable('distinct_id')}, {_EVENT_TIME} AS created_at\n"
            "FROM session_data FINAL"
        ),
        "katsuo_v_revenue": (
            "SELECT reinterpretAsUUID(MD5(toString(event_id))) AS revenue_id, website_id, "
            "session_id, event_id, event_name, currency, "
            f"toDecimal64(revenue, 4) AS revenue, {_EVENT_TIME} AS created_at\n"
            "FROM website_revenue"
        ),
    }


# Katsuo's table (store/schema.py) -> the view that presents it.
VIEWS = {
    "website_event": "katsuo_v_website_event",
    "session": "katsuo_v_session",
    "event_data": "katsuo_v_event_data",
    "session_data": "katsuo_v_session_data",
    "revenue": "katsuo_v_revenue",
}


def _create_table(table: Table, cluster: str, extra: str = "") -> list[str]:
    columns = ",\n  ".join(f"`{name}` {kind}" for name, kind in table.columns)
    comment = f"\nCOMMENT '{table.version}'" if table.version else ""
    extra += comment
    if not cluster:
        create = f"CREATE TABLE IF NOT EXISTS `{table.name}` (\n  {columns}\n)\n"
        return [f"{create}ENGINE = {table.engine}\n{table.keys}{extra}"]
    local = f"{table.name}_local"
    on = f" ON CLUSTER `{cluster}`"
    engine = (
        f"Replicated{table.engine}('/clickhouse/tables/{{shard}}/{{database}}/{local}', "
        "'{replica}')"
    )
    create = f"CREATE TABLE IF NOT EXISTS `{local}`{on} (\n  {columns}\n)\n"
    distributed = (
        f"Distributed(`{cluster}`, currentDatabase(), `{local}`, cityHash64({table.shard_by}))"
    )
    front = f"CREATE TABLE IF NOT EXISTS `{table.name}`{on} AS `{local}`"
    return [
        f"{create}ENGINE = {engine}\n{table.keys}{extra}",
        f"{front} ENGINE = {distributed}{comment}",
    ]


def _stored(name: str, cluster: str) -> str:
    """Where a materialized view writes and reads: on a cluster, each shard's local table."""
    return f"{name}_local" if cluster else name


def _on(cluster: str) -> str:
    return f" ON CLUSTER `{cluster}`" if cluster else ""


# ClickHouse 26 refuses an AggregatingMergeTree with plain columns outside its sorting key (the
# hourly rollup's session attributes, which depend on its visit) unless this setting allows it;
# older servers do not know the setting and need none.
DIMENSIONS_SETTING = "allow_dimensions_outside_sorting_key"


def umami_statements(cluster: str = "", *, dimensions_setting: bool = False) -> list[str]:
    """Umami's tables and hourly rollup, for a database Katsuo creates."""
    statements = []
    for table in UMAMI_TABLES:
        allow = table is STATS_HOURLY and dimensions_setting
        extra = f"\nSETTINGS {DIMENSIONS_SETTING} = 1" if allow else ""
        statements += _create_table(table, cluster, extra)
    target, source = _stored(STATS_HOURLY.name, cluster), _stored(WEBSITE_EVENT.name, cluster)
    statements.append(
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS `website_event_stats_hourly_mv`{_on(cluster)} "
        f"TO `{target}` AS\n{_stats_hourly_mv(source)}"
    )
    return statements


def katsuo_statements(cluster: str = "") -> list[str]:
    """Katsuo's own objects, on a fresh or an adopted database alike."""
    statements = _create_table(KATSUO_SESSION, cluster)
    target, source = _stored(KATSUO_SESSION.name, cluster), _stored(WEBSITE_EVENT.name, cluster)
    statements.append(
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS `katsuo_session_mv`{_on(cluster)} "
        f"TO `{target}` AS\n{_session_select(source)}"
    )
    for table in ROLLUPS:
        statements += _create_table(table, cluster)
        target = _stored(table.name, cluster)
        statements.append(
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS `{table.name}_mv`{_on(cluster)} "
            f"TO `{target}` AS\n{ROLLUP_SELECTS[table.name](source)}"
        )
    statements += _create_table(KATSUO_POINTERS, cluster)
    statements += [
        f"CREATE OR REPLACE VIEW `{name}`{_on(cluster)} AS\n{select}"
        for name, select in _views().items()
    ]
    return statements


def _exists(conn: sa.Connection, name: str) -> bool:
    return bool(conn.exec_driver_sql(f"EXISTS TABLE `{name}`").scalar())


def create(conn: sa.Connection, cluster: str = "") -> bool:
    """Create what is missing; returns whether the database was adopted (Umami's tables were
    there already, so only `katsuo_*` objects were created)."""
    adopted = _exists(conn, WEBSITE_EVENT.name)
    if not adopted:
        known = conn.exec_driver_sql(
            "SELECT count() FROM system.merge_tree_settings WHERE name = %(name)s",
            {"name": DIMENSIONS_SETTING},
        ).scalar()
        for statement in umami_statements(cluster, dimensions_setting=bool(known)):
            conn.exec_driver_sql(statement)
    for table in (*ROLLUPS, KATSUO_POINTERS):
        if _outdated(conn, table):
            # An earlier Katsuo's rollup or pointer rows with other columns: derived data,
            # rebuilt below (the pointer rows by analytics/pointer_upkeep.py's next round).
            for statement in _drop_derived(table, cluster):
                conn.exec_driver_sql(statement)
    missing = [t.name for t in (KATSUO_SESSION, *ROLLUPS) if not _exists(conn, t.name)]
    for statement in katsuo_statements(cluster):
        conn.exec_driver_sql(statement)
    if adopted and KATSUO_SESSION.name in missing:
        # The view sees only new inserts: the sessions of the events already stored are added
        # once (an event counted twice meanwhile changes no min or argMin).
        conn.exec_driver_sql(
            f"INSERT INTO `{KATSUO_SESSION.name}` {_session_select(WEBSITE_EVENT.name)}"
        )
    for table in ROLLUPS:
        if table.name in missing:
            # The events stored before the rollup existed (Katsuo writes none meanwhile: this
            # runs before it serves; see docs/clickhouse.md for another writer beside it).
            backfill_rollup(conn, table.name)
    return adopted


def _outdated(conn: sa.Connection, table: Table) -> bool:
    """Whether `table` exists with other columns or another version than the layout gives it."""
    found = conn.exec_driver_sql(
        "SELECT name FROM system.columns WHERE database = currentDatabase() "
        "AND table = %(table)s ORDER BY position",
        {"table": table.name},
    ).scalars()
    names = list(found)
    if not names:
        return False
    comment = conn.exec_driver_sql(
        "SELECT comment FROM system.tables WHERE database = currentDatabase() AND name = %(table)s",
        {"table": table.name},
    ).scalar()
    return names != [name for name, _ in table.columns] or (comment or "") != table.version


def _drop_derived(table: Table, cluster: str) -> list[str]:
    """The statements dropping a rollup and the view that feeds it (pointer rows: none)."""
    on = _on(cluster)
    names = [table.name, *([_stored(table.name, cluster)] if cluster else [])]
    return [
        f"DROP VIEW IF EXISTS `{table.name}_mv`{on}",
        *(f"DROP TABLE IF EXISTS `{name}`{on} SYNC" for name in names),
    ]


def backfill_rollup(conn: sa.Connection, name: str, where: str = "1") -> None:
    """Add the rows of rollup `name` for the stored events matching `where`."""
    select = ROLLUP_SELECTS[name](WEBSITE_EVENT.name, where)
    conn.exec_driver_sql(f"INSERT INTO `{name}` {select}")
