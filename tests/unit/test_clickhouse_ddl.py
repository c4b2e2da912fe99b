"""The ClickHouse layout's DDL: Umami 3.1's tables and sorting keys, Katsuo's `katsuo_*` objects;
with KATSUO_CLICKHOUSE_CLUSTER, replicated local tables on every shard behind Distributed tables
of Umami's names, materialized views on the local tables (checked as text: no cluster can be
started here; the single-server DDL runs for real in every chdb-backed test)."""

from __future__ import annotations

from katsuo.store.engines import clickhouse_layout as layout


def _statement(statements: list[str], start: str) -> str:
    (found,) = [s for s in statements if s.startswith(start)]
    return found


def test_single_server_tables():
    umami = layout.umami_statements()
    events = _statement(umami, "CREATE TABLE IF NOT EXISTS `website_event` (")
    assert (
        "ENGINE = MergeTree\nPARTITION BY toYYYYMM(created_at)\n"
        "ORDER BY (toStartOfHour(created_at), website_id, session_id, visit_id, created_at)\n"
        "PRIMARY KEY (toStartOfHour(created_at), website_id, session_id, visit_id)"
    ) in events
    # Umami's types: '' for a missing text, session attributes on the row; Katsuo's microseconds.
    assert "`url_query` String" in events and "`browser` LowCardinality(String)" in events
    assert (
        "`created_at` DateTime64(6, 'UTC')" in events and "`lcp` Nullable(Decimal(10, 1))" in events
    )
    hourly = _statement(umami, "CREATE TABLE IF NOT EXISTS `website_event_stats_hourly` (")
    assert "SETTINGS" not in hourly
    assert "SETTINGS allow_dimensions_outside_sorting_key = 1" in _statement(
        layout.umami_statements(dimensions_setting=True),
        "CREATE TABLE IF NOT EXISTS `website_event_stats_hourly` (",
    )
    assert _statement(
        umami, "CREATE MATERIALIZED VIEW IF NOT EXISTS `website_event_stats_hourly_mv`"
    )
    assert not [s for s in umami if "website_revenue_mv" in s]
    katsuo = layout.katsuo_statements()
    names = [s.split("`")[1] for s in katsuo]
    assert all(name.startswith("katsuo_") for name in names)
    sessions = _statement(katsuo, "CREATE TABLE IF NOT EXISTS `katsuo_session` (")
    assert "ENGINE = AggregatingMergeTree\nORDER BY (website_id, session_id)" in sessions


def test_cluster_tables():
    umami = layout.umami_statements("analytics")
    local = _statement(
        umami, "CREATE TABLE IF NOT EXISTS `event_data_local` ON CLUSTER `analytics` ("
    )
    assert (
        "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/event_data_local', "
        "'{replica}')\nORDER BY (website_id, event_id, data_key, created_at)" in local
    )
    assert _statement(umami, "CREATE TABLE IF NOT EXISTS `event_data` ON CLUSTER") == (
        "CREATE TABLE IF NOT EXISTS `event_data` ON CLUSTER `analytics` AS `event_data_local` "
        "ENGINE = Distributed(`analytics`, currentDatabase(), `event_data_local`, "
        "cityHash64(session_id))"
    )
    assert "ReplicatedReplacingMergeTree(" in _statement(
        umami, "CREATE TABLE IF NOT EXISTS `session_data_local`"
    )
    # The rollups are fed on each shard from its own events.
    hourly_mv = _statement(
        umami, "CREATE MATERIALIZED VIEW IF NOT EXISTS `website_event_stats_hourly_mv`"
    )
    assert "ON CLUSTER `analytics` TO `website_event_stats_hourly_local`" in hourly_mv
    assert "FROM website_event_local" in hourly_mv
    katsuo = layout.katsuo_statements("analytics")
    assert "ReplicatedAggregatingMergeTree(" in _statement(
        katsuo, "CREATE TABLE IF NOT EXISTS `katsuo_session_local` ON CLUSTER `analytics`"
    )
    # The hourly rollup's layout version is on the Distributed table (which start-up reads)
    # and on each shard's table.
    version = f"\nCOMMENT '{layout.KATSUO_HOURLY.version}'"
    assert _statement(katsuo, "CREATE TABLE IF NOT EXISTS `katsuo_hourly` ON CLUSTER").endswith(
        version
    )
    assert _statement(katsuo, "CREATE TABLE IF NOT EXISTS `katsuo_hourly_local`").endswith(version)
    session_mv = _statement(katsuo, "CREATE MATERIALIZED VIEW IF NOT EXISTS `katsuo_session_mv`")
    assert "TO `katsuo_session_local`" in session_mv and "FROM website_event_local" in session_mv
    # Katsuo's views read the Distributed tables.
    view = _statement(katsuo, "CREATE OR REPLACE VIEW `katsuo_v_website_event` ON CLUSTER")
    assert view.endswith("FROM website_event")
