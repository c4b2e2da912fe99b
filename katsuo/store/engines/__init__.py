"""The store engines (each module one `Engine`, engine.py): which one the settings choose."""

from __future__ import annotations

from katsuo.config import Settings
from katsuo.store.engines import duckdb, postgresql
from katsuo.store.engines.engine import Engine


def module_for(settings: Settings) -> Engine:
    return postgresql if settings.engine == "postgresql" else duckdb


def named(name: str) -> Engine:
    """The engine module called `name` (its NAME)."""
    if name == "clickhouse":
        from katsuo.store.engines import clickhouse

        return clickhouse
    return {"postgresql": postgresql, "duckdb": duckdb}[name]


def events_module(settings: Settings) -> Engine | None:
    """Where the collected data lives: ClickHouse when CLICKHOUSE_URL is set, else beside the rest."""
    if settings.clickhouse_url:
        from katsuo.store.engines import clickhouse

        return clickhouse
    return None
