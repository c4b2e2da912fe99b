"""The ClickHouse tables' DDL: one MergeTree table per collected-data table, sorted by website and
time; with KATSUO_CLICKHOUSE_CLUSTER, replicated local tables on every shard behind Distributed
tables of Umami's names (checked as text: no cluster can be started here; the single-server
DDL runs for real in every chdb-backed test)."""

from __future__ import annotations

from katsuo.store import schema
from katsuo.store.engines import clickhouse


def test_single_server_tables():
    (ddl,) = clickhouse.table_ddl(schema.website_event)
    assert ddl.startswith("CREATE TABLE IF NOT EXISTS `website_event` (")
    assert (
        "ENGINE = MergeTree()\nPARTITION BY toYYYYMM(created_at)\nORDER BY (website_id, created_at)"
        in ddl
    )
    # Sorting-key columns cannot be Nullable; other optional columns keep SQL's NULL.
    assert "`created_at` DateTime64(6, 'UTC') DEFAULT now64(6)" in ddl
    assert "`url_query` Nullable(String)" in ddl and "`event_id` UUID" in ddl
    assert "`lcp` Nullable(Decimal(10, 1))" in ddl
    (sessions,) = clickhouse.table_ddl(schema.session)
    assert (
        "ENGINE = ReplacingMergeTree()" in sessions
        and "ORDER BY (website_id, session_id)" in sessions
    )


def test_cluster_tables():
    local, distributed = clickhouse.table_ddl(schema.event_data, "analytics")
    assert local.startswith(
        "CREATE TABLE IF NOT EXISTS `event_data_local` ON CLUSTER `analytics` ("
    )
    assert (
        "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/event_data_local', "
        "'{replica}')" in local
    )
    assert distributed == (
        "CREATE TABLE IF NOT EXISTS `event_data` ON CLUSTER `analytics` AS `event_data_local` "
        "ENGINE = Distributed(`analytics`, currentDatabase(), `event_data_local`, "
        "cityHash64(website_event_id))"
    )
    local, _ = clickhouse.table_ddl(schema.session, "analytics")
    assert "ReplicatedReplacingMergeTree(" in local
