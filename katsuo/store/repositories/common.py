"""Shared pieces of the repositories: id-labelled columns, paging and search."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from katsuo.store.records import Page, Record

R = TypeVar("R", bound=Record)

DEFAULT_PAGE_SIZE = 20


def now() -> datetime:
    return datetime.now(UTC)


def columns(
    table: sa.Table, *, exclude: Iterable[str] = (), id_column: str | None = None
) -> list[sa.ColumnElement]:
    """The table's columns with `<table>_id` (or `id_column`) exposed as `id`, as Umami's API names it."""
    id_name = id_column or f"{table.name}_id"
    skip = set(exclude)
    return [
        table.c[c.name].label("id") if c.name == id_name else table.c[c.name]
        for c in table.columns
        if c.name not in skip
    ]


def search_any(search: str | None, *cols: sa.ColumnElement) -> sa.ColumnElement | None:
    """Case-insensitive substring match OR-ed over the columns
    (docs/permissions.md#lists-paging-order-and-search)."""
    if not search:
        return None
    return sa.or_(*(col.icontains(search, autoescape=True) for col in cols))


def paginate(
    conn: sa.Connection,
    stmt: sa.Select,
    model: type[R],
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
    order_by: str | None = None,
    counts: tuple[str, ...] = (),
    build: Callable[[dict[str, Any]], R] | None = None,
) -> Page[R]:
    """One page of `stmt` as records. Columns named in `counts` (`<name>_count`) are gathered into
    the record's `_count` object; `build` turns a row into a record when validation alone cannot."""
    count = conn.execute(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    ).scalar_one()
    rows = conn.execute(stmt.limit(page_size).offset((page - 1) * page_size)).mappings().all()
    build = build or model.model_validate
    return Page[model](
        data=[build(_with_counts(dict(row), counts)) for row in rows],
        count=count,
        page=page,
        page_size=page_size,
        order_by=order_by,
    )


def one(conn: sa.Connection, stmt: sa.Select, model: type[R]) -> R | None:
    row = conn.execute(stmt).mappings().first()
    return model.model_validate(dict(row)) if row else None


def _with_counts(values: dict, counts: tuple[str, ...]) -> dict:
    if counts:
        values["_count"] = {name.removesuffix("_count"): values.pop(name) for name in counts}
    return values
