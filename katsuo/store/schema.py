"""Umami v3's tables, column for column (docs/schema.md), plus Katsuo's own additions.

Defined once; `store/engines/` decides how each engine creates them (DuckDB skips the B-tree
indexes and the primary keys of the append-only event tables, which only slow its inserts).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from clickhouse_connect.cc_sqlalchemy.datatypes import sqltypes as clickhouse
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData()


class _ClickHouseTime(sa.TypeDecorator):
    """ClickHouse's DateTime64 holds 1900-2299: bounds beyond (an open-ended range) are clamped."""

    impl = clickhouse.DateTime64
    cache_ok = True
    _EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
    _LATEST = datetime(2299, 12, 31, 23, 59, 59, tzinfo=UTC)

    def process_bind_param(self, value, dialect):
        if isinstance(value, datetime) and value.tzinfo is not None:
            return min(max(value, self._EARLIEST), self._LATEST)
        return value


# ClickHouse (the events store with CLICKHOUSE_URL) binds these with its own types: ids given as
# strings or UUIDs, and timestamps with their microseconds.
Uuid = sa.Uuid(as_uuid=True).with_variant(clickhouse.UUID(), "clickhousedb")
Timestamp = sa.DateTime(timezone=True).with_variant(_ClickHouseTime(6, "UTC"), "clickhousedb")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _timestamps(*, deleted: bool = False) -> list[sa.Column]:
    columns = [
        sa.Column("created_at", Timestamp, server_default=sa.func.current_timestamp()),
        sa.Column("updated_at", Timestamp),
    ]
    if deleted:
        columns.append(sa.Column("deleted_at", Timestamp))
    return columns


user = sa.Table(
    "user",
    metadata,
    sa.Column("user_id", Uuid, primary_key=True),
    sa.Column("username", sa.String(255), nullable=False, unique=True),
    sa.Column("password", sa.String(60), nullable=False),
    sa.Column("role", sa.String(50), nullable=False),
    sa.Column("logo_url", sa.String(2183)),
    sa.Column("display_name", sa.String(255)),
    *_timestamps(deleted=True),
)

team = sa.Table(
    "team",
    metadata,
    sa.Column("team_id", Uuid, primary_key=True),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("access_code", sa.String(50), unique=True),
    sa.Column("logo_url", sa.String(2183)),
    *_timestamps(deleted=True),
    sa.Index("team_access_code_idx", "access_code"),
)

team_user = sa.Table(
    "team_user",
    metadata,
    sa.Column("team_user_id", Uuid, primary_key=True),
    sa.Column("team_id", Uuid, nullable=False),
    sa.Column("user_id", Uuid, nullable=False),
    sa.Column("role", sa.String(50), nullable=False),
    *_timestamps(),
    sa.Index("team_user_team_id_idx", "team_id"),
    sa.Index("team_user_user_id_idx", "user_id"),
)

website = sa.Table(
    "website",
    metadata,
    sa.Column("website_id", Uuid, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("domain", sa.String(500)),
    sa.Column("reset_at", Timestamp),
    sa.Column("user_id", Uuid),
    sa.Column("team_id", Uuid),
    sa.Column("created_by", Uuid),
    *_timestamps(deleted=True),
    sa.Column("replay_enabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("replay_config", Json),
    sa.Index("website_user_id_idx", "user_id"),
    sa.Index("website_team_id_idx", "team_id"),
    sa.Index("website_created_at_idx", "created_at"),
    sa.Index("website_created_by_idx", "created_by"),
)

_SESSION_ATTRS = ("browser", "os", "device", "screen", "language", "country", "region", "city")

session = sa.Table(
    "session",
    metadata,
    sa.Column("session_id", Uuid, primary_key=True),
    sa.Column("website_id", Uuid, nullable=False),
    sa.Column("browser", sa.String(20)),
    sa.Column("os", sa.String(20)),
    sa.Column("device", sa.String(20)),
    sa.Column("screen", sa.String(11)),
    sa.Column("language", sa.String(35)),
    sa.Column("country", sa.CHAR(2)),
    sa.Column("region", sa.String(20)),
    sa.Column("city", sa.String(50)),
    sa.Column("distinct_id", sa.String(50)),
    sa.Column("created_at", Timestamp, server_default=sa.func.current_timestamp()),
    sa.Index("session_created_at_idx", "created_at"),
    sa.Index("session_website_id_idx", "website_id"),
    sa.Index("session_website_id_created_at_idx", "website_id", "created_at"),
    *(
        sa.Index(f"session_website_id_created_at_{c}_idx", "website_id", "created_at", c)
        for c in _SESSION_ATTRS
    ),
)

_EVENT_INDEXED = (
    "url_path",
    "url_query",
    "referrer_domain",
    "page_title",
    "event_name",
    "tag",
    "hostname",
)

website_event = sa.Table(
    "website_event",
    metadata,
    sa.Column("event_id", Uuid, primary_key=True),
    sa.Column("website_id", Uuid, nullable=False),
    sa.Column("session_id", Uuid, nullable=False),
    sa.Column("visit_id", Uuid, nullable=False),
    sa.Column("created_at", Timestamp, server_default=sa.func.current_timestamp()),
    sa.Column("url_path", sa.String(500), nullable=False),
    sa.Column("url_query", sa.String(500)),
    sa.Column("utm_source", sa.String(255)),
    sa.Column("utm_medium", sa.String(255)),
    sa.Column("utm_campaign", sa.String(255)),
    sa.Column("utm_content", sa.String(255)),
    sa.Column("utm_term", sa.String(255)),
    sa.Column("referrer_path", sa.String(500)),
    sa.Column("referrer_query", sa.String(500)),
    sa.Column("referrer_domain", sa.String(500)),
    sa.Column("page_title", sa.String(500)),
    sa.Column("gclid", sa.String(255)),
    sa.Column("fbclid", sa.String(255)),
    sa.Column("msclkid", sa.String(255)),
    sa.Column("ttclid", sa.String(255)),
    sa.Column("li_fat_id", sa.String(255)),
    sa.Column("twclid", sa.String(255)),
    sa.Column("event_type", sa.Integer, nullable=False, server_default=sa.text("1")),
    sa.Column("event_name", sa.String(50)),
    sa.Column("tag", sa.String(50)),
    sa.Column("hostname", sa.String(100)),
    sa.Column("lcp", sa.Numeric(10, 1)),
    sa.Column("inp", sa.Numeric(10, 1)),
    sa.Column("fcp", sa.Numeric(10, 1)),
    sa.Column("ttfb", sa.Numeric(10, 1)),
    sa.Column("cls", sa.Numeric(10, 4)),
    sa.Index("website_event_created_at_idx", "created_at"),
    sa.Index("website_event_session_id_idx", "session_id"),
    sa.Index("website_event_visit_id_idx", "visit_id"),
    sa.Index("website_event_website_id_idx", "website_id"),
    sa.Index("website_event_website_id_created_at_idx", "website_id", "created_at"),
    *(
        sa.Index(f"website_event_website_id_created_at_{c}_idx", "website_id", "created_at", c)
        for c in _EVENT_INDEXED
    ),
    sa.Index(
        "website_event_website_id_session_id_created_at_idx",
        "website_id",
        "session_id",
        "created_at",
    ),
    sa.Index(
        "website_event_website_id_visit_id_created_at_idx", "website_id", "visit_id", "created_at"
    ),
)


def _data_columns() -> list[sa.Column]:
    return [
        sa.Column("data_key", sa.String(500), nullable=False),
        sa.Column("string_value", sa.String(500)),
        sa.Column("number_value", sa.Numeric(19, 4)),
        sa.Column("date_value", Timestamp),
        sa.Column("data_type", sa.Integer, nullable=False),
    ]


event_data = sa.Table(
    "event_data",
    metadata,
    sa.Column("event_data_id", Uuid, primary_key=True),
    sa.Column("website_id", Uuid, nullable=False),
    sa.Column("website_event_id", Uuid, nullable=False),
    *_data_columns(),
    sa.Column("created_at", Timestamp, server_default=sa.func.current_timestamp()),
    sa.Index("event_data_created_at_idx", "created_at"),
    sa.Index("event_data_website_id_idx", "website_id"),
    sa.Index("event_data_website_event_id_idx", "website_event_id"),
    sa.Index("event_data_website_id_created_at_idx", "website_id", "created_at"),
    sa.Index(
        "event_data_website_id_created_at_data_key_idx", "website_id", "created_at", "data_key"
    ),
)

session_data = sa.Table(
    "session_data",
    metadata,
    sa.Column("session_data_id", Uuid, primary_key=True),
    sa.Column("website_id", Uuid, nullable=False),
    sa.Column("session_id", Uuid, nullable=False),
    *_data_columns(),
    sa.Column("distinct_id", sa.String(50)),
    sa.Column("created_at", Timestamp, server_default=sa.func.current_timestamp()),
    sa.Index("session_data_created_at_idx", "created_at"),
    sa.Index("session_data_website_id_idx", "website_id"),
    sa.Index("session_data_session_id_idx", "session_id"),
    sa.Index("session_data_session_id_created_at_idx", "session_id", "created_at"),
    sa.Index(
        "session_data_website_id_created_at_data_key_idx", "website_id", "created_at", "data_key"
    ),
)

revenue = sa.Table(
    "revenue",
    metadata,
    sa.Column("revenue_id", Uuid, primary_key=True),
    sa.Column("website_id", Uuid, nullable=False),
    sa.Column("session_id", Uuid, nullable=False),
    sa.Column("event_id", Uuid, nullable=False),
    sa.Column("event_name", sa.String(50), nullable=False),
    sa.Column("currency", sa.String(10), nullable=False),
    sa.Column("revenue", sa.Numeric(19, 4)),
    sa.Column("created_at", Timestamp, server_default=sa.func.current_timestamp()),
    sa.Index("revenue_website_id_idx", "website_id"),
    sa.Index("revenue_session_id_idx", "session_id"),
    sa.Index("revenue_website_id_created_at_idx", "website_id", "created_at"),
    sa.Index(
        "revenue_website_id_session_id_created_at_idx", "website_id", "session_id", "created_at"
    ),
)

report = sa.Table(
    "report",
    metadata,
    sa.Column("report_id", Uuid, primary_key=True),
    sa.Column("user_id", Uuid, nullable=False),
    sa.Column("website_id", Uuid, nullable=False),
    sa.Column("type", sa.String(50), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.String(500), nullable=False),
    sa.Column("parameters", Json, nullable=False),
    *_timestamps(),
    sa.Index("report_user_id_idx", "user_id"),
    sa.Index("report_website_id_idx", "website_id"),
    sa.Index("report_type_idx", "type"),
    sa.Index("report_name_idx", "name"),
)

segment = sa.Table(
    "segment",
    metadata,
    sa.Column("segment_id", Uuid, primary_key=True),
    sa.Column("website_id", Uuid, nullable=False),
    sa.Column("type", sa.String(50), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("parameters", Json, nullable=False),
    *_timestamps(),
    sa.Index("segment_website_id_idx", "website_id"),
)


def _owned_slug_table(name: str, *extra: sa.Column) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column(f"{name}_id", Uuid, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        *extra,
        sa.Column("slug", sa.String(100), nullable=False, unique=True),
        sa.Column("user_id", Uuid),
        sa.Column("team_id", Uuid),
        *_timestamps(deleted=True),
        sa.Index(f"{name}_slug_idx", "slug"),
        sa.Index(f"{name}_user_id_idx", "user_id"),
        sa.Index(f"{name}_team_id_idx", "team_id"),
        sa.Index(f"{name}_created_at_idx", "created_at"),
    )


link = _owned_slug_table("link", sa.Column("url", sa.String(500), nullable=False))
pixel = _owned_slug_table("pixel")

board = sa.Table(
    "board",
    metadata,
    sa.Column("board_id", Uuid, primary_key=True),
    sa.Column("type", sa.String(50), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.String(500), nullable=False),
    sa.Column("parameters", Json, nullable=False),
    sa.Column("user_id", Uuid),
    sa.Column("team_id", Uuid),
    *_timestamps(),
    sa.Index("board_user_id_idx", "user_id"),
    sa.Index("board_team_id_idx", "team_id"),
    sa.Index("board_created_at_idx", "created_at"),
)

share = sa.Table(
    "share",
    metadata,
    sa.Column("share_id", Uuid, primary_key=True),
    sa.Column("entity_id", Uuid, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("share_type", sa.Integer, nullable=False),
    sa.Column("slug", sa.String(100), nullable=False, unique=True),
    sa.Column("parameters", Json, nullable=False),
    *_timestamps(),
    sa.Index("share_entity_id_idx", "entity_id"),
)

session_replay = sa.Table(
    "session_replay",
    metadata,
    sa.Column("replay_id", Uuid, primary_key=True),
    sa.Column("website_id", Uuid, nullable=False),
    sa.Column("session_id", Uuid, nullable=False),
    sa.Column("visit_id", Uuid, nullable=False),
    sa.Column("chunk_index", sa.Integer, nullable=False),
    sa.Column("events", sa.LargeBinary, nullable=False),
    sa.Column("event_count", sa.Integer),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("ended_at", Timestamp, nullable=False),
    sa.Column("created_at", Timestamp, server_default=sa.func.current_timestamp()),
    sa.Index("session_replay_website_id_idx", "website_id"),
    sa.Index("session_replay_session_id_idx", "session_id"),
)

session_replay_saved = sa.Table(
    "session_replay_saved",
    metadata,
    sa.Column("saved_replay_id", Uuid, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("website_id", Uuid, nullable=False),
    sa.Column("visit_id", Uuid, nullable=False),
    *_timestamps(),
    sa.UniqueConstraint("website_id", "visit_id"),
)

UMAMI_TABLES = tuple(metadata.tables.values())

# --- Katsuo's own tables (never touch Umami's) -------------------------------------------------

api_key = sa.Table(
    "katsuo_api_key",
    metadata,
    sa.Column("api_key_id", Uuid, primary_key=True),
    sa.Column("user_id", Uuid, nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("key_hash", sa.CHAR(64), nullable=False, unique=True),
    sa.Column("created_at", Timestamp, server_default=sa.func.current_timestamp()),
    sa.Column("last_used_at", Timestamp),
    sa.Index("katsuo_api_key_user_id_idx", "user_id"),
)

# Login revocation (auth/logins.py): every login token carries its user's generation at issue;
# raising it (password or role change) ends every login issued before. No row: generation 0.
login_generation = sa.Table(
    "katsuo_login_generation",
    metadata,
    sa.Column("user_id", Uuid, primary_key=True),
    sa.Column("generation", sa.Integer, nullable=False),
)

schema_version = sa.Table(
    "katsuo_schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("applied_at", Timestamp, server_default=sa.func.current_timestamp()),
)

# The collect journal's position that the store holds (collect/journal.py): one row, written in
# the same transaction as the rows applied from the journal. Used with embedded DuckDB only.
collect_journal = sa.Table(
    "katsuo_collect_journal",
    metadata,
    sa.Column("segment", sa.BigInteger, nullable=False),
    sa.Column("offset", sa.BigInteger, nullable=False),
)

# Ids of deleted websites, links and pixels: never given out again, so that collected rows that
# outlive their entity (a hit that arrived after the delete, a purge that failed) can never be
# read through a new entity (see docs/data-lifecycle.md).
deleted_id = sa.Table(
    "katsuo_deleted_id",
    metadata,
    sa.Column("entity_id", Uuid, primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("deleted_at", Timestamp, nullable=False),
)

# Deletions of collected rows still to run in the events store (ClickHouse), queued in the
# transaction that deleted or reset their entity and run once it committed: all of the entity's
# rows, or (`before`) those created before that instant.
purge = sa.Table(
    "katsuo_purge",
    metadata,
    sa.Column("purge_id", Uuid, primary_key=True),
    sa.Column("entity_id", Uuid, nullable=False),
    sa.Column("before", Timestamp),
    sa.Column("created_at", Timestamp, nullable=False),
)

# A website's retention limit (ops/retention.py): its collected data older than `days` is
# deleted daily. No row: KATSUO_RETENTION_DAYS applies (unset: kept for ever).
website_retention = sa.Table(
    "katsuo_website_retention",
    metadata,
    sa.Column("website_id", Uuid, primary_key=True),
    sa.Column("days", sa.Integer, nullable=False),
)

# Append-only analytics tables: on DuckDB they carry no primary key or index (ART indexes cost
# memory and insert speed, and nothing looks these rows up one by one).
EVENT_TABLES = (
    "website_event",
    "event_data",
    "session_data",
    "revenue",
    "katsuo_visit_slice",
    "katsuo_slice_pending",
    "katsuo_slice_session",
    "katsuo_slice_count",
)

SESSION_ATTRIBUTES = _SESSION_ATTRS

# --- the read path's derived tables (rebuildable from Umami's tables; see analytics/slices.py) --

# One row per visit × dimension value × half hour (UTC): how often and when the value occurred
# in that part of the visit, the previous occurrence of the same (session, dimension, value),
# the whole visit's (group's) totals, and the session's attributes. Sorted by website, dimension
# and time, so a dashboard query reads only its website's rows in range and counts distinct
# sessions without hashing them (see analytics/summary.py). The journey dimension is the
# exception: one row per visit, whole, holding the visit's first steps in order.
JOURNEY_STEPS = 7  # the most steps a journey report shows
SLICE_VALUE_LENGTH = JOURNEY_STEPS * 501
visit_slice = sa.Table(
    "katsuo_visit_slice",
    metadata,
    sa.Column("website_id", Uuid, nullable=False),
    sa.Column("dim", sa.SmallInteger, nullable=False),
    # A path, referrer or event name; for the journey dimension a visit's first labels (a path
    # or an event name each, up to 500 characters) with a separator before each.
    sa.Column("value", sa.String(SLICE_VALUE_LENGTH)),
    sa.Column("session_id", Uuid, nullable=False),
    sa.Column("visit_id", Uuid, nullable=False),
    sa.Column("first_us", sa.BigInteger, nullable=False),
    sa.Column("last_us", sa.BigInteger, nullable=False),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.Column("prev_us", sa.BigInteger),
    sa.Column("prev_how_us", sa.BigInteger),
    sa.Column("group_first_us", sa.BigInteger, nullable=False),
    sa.Column("group_last_us", sa.BigInteger, nullable=False),
    sa.Column("group_hits", sa.Integer, nullable=False),
    *(sa.Column(c, sa.String(50)) for c in (*SESSION_ATTRIBUTES, "distinct_id")),
    sa.Index("katsuo_visit_slice_website_dim_first_idx", "website_id", "dim", "first_us"),
    sa.Index("katsuo_visit_slice_session_idx", "session_id"),
    # PostgreSQL reads rows whole: one partition per dimension keeps a query's scan to its own
    # dimension's rows (DuckDB reads only the columns it needs and skips by zone maps instead).
    postgresql_partition_by="LIST (dim)",
)
SLICE_DIMENSIONS = {0: "view", 1: "path", 2: "referrer", 3: "event", 4: "journey"}

# Events written since the slices were last brought up to date: the write path appends here in
# the same transaction as the events; the read path adds them to what the slices say.
slice_pending = sa.Table(
    "katsuo_slice_pending",
    metadata,
    sa.Column("event_id", Uuid, nullable=False),
    sa.Column("website_id", Uuid, nullable=False),
    sa.Column("session_id", Uuid, nullable=False),
    sa.Column("visit_id", Uuid, nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("event_type", sa.Integer, nullable=False),
    sa.Column("url_path", sa.String(500)),
    sa.Column("referrer_domain", sa.String(500)),
    sa.Column("hostname", sa.String(100)),
    sa.Column("event_name", sa.String(50)),
    sa.Index("katsuo_slice_pending_website_idx", "website_id", "created_us"),
)

# Each session's first and last slice: lets an incremental update of the slices read only the
# events since the earliest start among the sessions it recomputes, not the whole history.
slice_session = sa.Table(
    "katsuo_slice_session",
    metadata,
    sa.Column("website_id", Uuid, nullable=False),
    sa.Column("session_id", Uuid, nullable=False),
    sa.Column("first_us", sa.BigInteger, nullable=False),
    sa.Column("last_us", sa.BigInteger, nullable=False),
    sa.Index("katsuo_slice_session_session_idx", "session_id"),
)

# Whether the slices describe the events (set by a full rebuild; cleared when they must be
# rebuilt, e.g. after an adopted database or an import).
slice_state = sa.Table(
    "katsuo_slice_state",
    metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("built_at", Timestamp),
)

# Per website and UTC hour: how many rows of website_event the slices reflect, and the sum of a
# hash of their ids. The catch-up compares these with the same figures over website_event to find
# what another writer added or deleted, at any time in the past (analytics/catchup.py).
slice_count = sa.Table(
    "katsuo_slice_count",
    metadata,
    sa.Column("website_id", Uuid, nullable=False),
    sa.Column("hour_us", sa.BigInteger, nullable=False),
    sa.Column("events", sa.BigInteger, nullable=False),
    sa.Column("fingerprint", sa.BigInteger, nullable=False),
    sa.Index("katsuo_slice_count_website_idx", "website_id", "hour_us"),
)

# Websites whose slices are incomplete: their queries read the raw tables. `parts` is set while
# the website's slices are rebuilt part by part (`done` of them so far, so a stopped rebuild
# resumes); it is empty while a repair of what another writer changed is under way.
slice_stale = sa.Table(
    "katsuo_slice_stale",
    metadata,
    sa.Column("website_id", Uuid, primary_key=True),
    sa.Column("parts", sa.Integer),
    sa.Column("done", sa.Integer, nullable=False),
)

# The parts of a rebuild under way (analytics/slices.py): part `part` of a website is the sessions
# whose first event falls in [first_from_us, first_to_us), and their events all lie between
# first_from_us and events_to_us. Kept so that a stopped rebuild resumes with the same parts.
slice_part = sa.Table(
    "katsuo_slice_part",
    metadata,
    sa.Column("website_id", Uuid, nullable=False),
    sa.Column("part", sa.Integer, nullable=False),
    sa.Column("first_from_us", sa.BigInteger, nullable=False),
    sa.Column("first_to_us", sa.BigInteger, nullable=False),
    sa.Column("events_to_us", sa.BigInteger, nullable=False),
)
