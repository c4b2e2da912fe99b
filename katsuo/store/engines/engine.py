"""What a store engine is: the interface each module of store/engines (duckdb, postgresql,
clickhouse) provides, its capabilities included, with the read path's SQL dialect
(analytics/dialects.py) as one of its members.

Code outside store/engines and analytics/dialects.py asks an engine for a capability or an
operation and never compares engine names.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol, runtime_checkable

import sqlalchemy as sa

from katsuo.analytics.dialects import Dialect
from katsuo.config import Settings


@runtime_checkable
class Engine(Protocol):
    NAME: str
    # --- capabilities ---
    # One process owns the store: the writer may know every stored session id (collect/writer.py).
    ONE_WRITER_PROCESS: bool
    # Hits are made durable in the collect journal and applied to the store behind it.
    COLLECT_JOURNAL: bool
    # The read path's derived tables (the visit slices, analytics/slices.py) are kept here; such
    # an engine is a `DerivedTablesEngine`.
    DERIVED_TABLES: bool
    # Rollups the engine keeps by itself (e.g. ClickHouse materialized views) that reads may use.
    ROLLUPS: bool
    # `katsuo copy` may move collected data between two such engines as CSV files, through
    # export_csv and import_csv (ops/copy.py).
    CSV_COPY: bool
    # Connections per process; the analytics requests' ceiling stays below it (api/admission.py).
    POOL_SIZE: int
    MAX_OVERFLOW: int
    # How the read path spells what differs on this engine.
    DIALECT: Dialect

    def create_engine(self, settings: Settings) -> sa.Engine: ...

    def create_tables(self, conn: sa.Connection, tables: list[sa.Table]) -> None: ...

    def insert_rows(
        self,
        conn: sa.Connection,
        table: str,
        columns: tuple[str, ...],
        rows: list[tuple],
        *,
        skip_existing: bool = False,
    ) -> None: ...

    def delete_rows(
        self, conn: sa.Connection, table: sa.Table, where: sa.ColumnElement, settings: Settings
    ) -> None: ...

    # --- query budgets (analytics/budget.py) ---
    def budgeted(self, conn: sa.Connection, seconds: float) -> AbstractContextManager[None]: ...

    def canceller(self, conn: sa.Connection) -> Callable[[], None]: ...

    def error_kind(self, error: BaseException) -> str | None:
        """ "timeout", "invalid-regex", or None for any other error."""


@runtime_checkable
class DerivedTablesEngine(Engine, Protocol):
    """An engine that keeps the visit slices: the upkeep's needs (analytics/slices.py)."""

    def snapshot(self, conn: sa.Connection) -> None: ...

    def exclusive(
        self, conn: sa.Connection, key: int, *, wait: bool
    ) -> AbstractContextManager[bool]: ...

    def stored_in_order(self, conn: sa.Connection) -> AbstractContextManager[None]: ...

    def analyze(self, conn: sa.Connection, tables: list[str]) -> None: ...


@runtime_checkable
class CsvCopyEngine(Engine, Protocol):
    """An engine that `katsuo copy` moves collected data through as CSV files (ops/copy.py), in
    PostgreSQL's CSV dialect: NULL unquoted and empty, an empty string `""`."""

    def export_csv(self, conn: sa.Connection, query: str, path: Path) -> None: ...

    def secondary_indexes(self, conn: sa.Connection, table: str) -> dict[str, str]:
        """Index name -> its CREATE statement, the primary key left out."""

    def import_csv(self, conn: sa.Connection, table: sa.Table, path: Path) -> int:
        """Appends the file's rows, columns in the table's order; returns their number."""
