"""Saved report definitions: a type, a name and free-form parameters, per website."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from katsuo.store import ids, schema
from katsuo.store.records import Page, Report
from katsuo.store.repositories.common import columns, now, one, paginate

t = schema.report
_select = sa.select(*columns(t))


def get(conn: sa.Connection, report_id: UUID) -> Report | None:
    return one(conn, _select.where(t.c.report_id == report_id), Report)


def list_for_website(
    conn: sa.Connection, website_id: UUID, *, report_type: str | None, page: int, page_size: int
) -> Page:
    stmt = _select.where(t.c.website_id == website_id)
    if report_type:
        stmt = stmt.where(t.c.type == report_type)
    return paginate(conn, stmt.order_by(t.c.created_at, t.c.report_id), Report, page, page_size)


def create(
    conn: sa.Connection,
    *,
    user_id: UUID,
    website_id: UUID,
    report_type: str,
    name: str,
    description: str,
    parameters: dict,
) -> Report:
    report_id, created = ids.new_id(), now()
    conn.execute(
        t.insert().values(
            report_id=report_id,
            user_id=user_id,
            website_id=website_id,
            type=report_type,
            name=name,
            description=description,
            parameters=parameters,
            created_at=created,
            updated_at=created,
        )
    )
    return get(conn, report_id)


def update(conn: sa.Connection, report_id: UUID, **values) -> Report | None:
    if "report_type" in values:
        values["type"] = values.pop("report_type")
    conn.execute(t.update().where(t.c.report_id == report_id).values(**values, updated_at=now()))
    return get(conn, report_id)


def delete(conn: sa.Connection, report_id: UUID) -> None:
    conn.execute(t.delete().where(t.c.report_id == report_id))
