"""The website, link or pixel an analytics request is about, checked for view permission, with
the request's parameters ready to become a Query (queries.md: every analytics endpoint accepts
a website, link or pixel id; share tokens count)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from fastapi import Query as FromQuery

from katsuo import checks
from katsuo.analytics import query as analytics_query
from katsuo.analytics import timeframe as T
from katsuo.analytics.query import Query, Target
from katsuo.analytics.runner import Reader
from katsuo.api.analytics_params import AnalyticsParams
from katsuo.api.deps import AnyActor, AppServices, Conn
from katsuo.auth.permissions import authorize
from katsuo.errors import NotFound
from katsuo.store.repositories import entities


@dataclass
class Analytics:
    target: Target
    reader: Reader
    params: dict[str, str]
    conn: object
    now_us: int

    def query(
        self, *, timezone_required: bool = False, unit_param: bool = True, **overrides: str
    ) -> Query:
        params = {**self.params, **overrides}
        return analytics_query.parse(
            params,
            self.target,
            self.conn,
            now_us=self.now_us,
            timezone_required=timezone_required,
            unit_param=unit_param,
        )

    def param(self, name: str) -> str | None:
        value = self.params.get(name)
        return checks.text(name, value) if value else None


def load_target(conn, actor, website_id: UUID) -> Target:
    """The website, link or pixel `website_id` names, once the actor may view it; 404 if none."""
    found = entities.find(conn, website_id)
    if found is None:
        raise NotFound("Website not found")
    kind, entity = found
    authorize(actor, "view", (kind, entity))
    if kind == "website":
        return Target(entity.id, T.to_us(entity.reset_at) if entity.reset_at else None)
    return Target(entity.id, kind=kind)


def analytics(
    website_id: UUID,
    request: Request,
    actor: AnyActor,
    conn: Conn,
    svc: AppServices,
    declared: Annotated[AnalyticsParams, FromQuery()],
) -> Iterator[Analytics]:
    # `declared` validates and documents the parameters; the parsers read the whole mapping,
    # numbered filter repeats (path1, …) included.
    target = load_target(conn, actor, website_id)
    with Reader.of(svc.db, conn) as reader:
        yield Analytics(target, reader, dict(request.query_params), conn, analytics_query.now_us())


AnalyticsRequest = Annotated[Analytics, Depends(analytics, scope="function")]
