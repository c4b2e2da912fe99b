"""Engine differences on the storage side: how to connect, and how to create the schema."""

from __future__ import annotations

from katsuo.config import Settings
from katsuo.store.engines import duckdb, postgresql


def module_for(settings: Settings):
    return postgresql if settings.engine == "postgresql" else duckdb


def named(name: str):
    """The engine module called `name` (its NAME)."""
    if name == "clickhouse":
        from katsuo.store.engines import clickhouse

        return clickhouse
    return {"postgresql": postgresql, "duckdb": duckdb}[name]


def events_module(settings: Settings):
    """Where the collected data lives: ClickHouse when CLICKHOUSE_URL is set, else beside the rest."""
    if settings.clickhouse_url:
        from katsuo.store.engines import clickhouse

        return clickhouse
    return None
