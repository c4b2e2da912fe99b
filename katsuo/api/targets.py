"""The website, link or pixel an analytics request is about, checked for view permission, with
the request's parameters ready to become a Query (docs/query-formulas.md: every analytics
endpoint accepts a website, link or pixel id; share tokens count), run within the request's
budget: admitted by api/admission.py, stopped by analytics/budget.py when its time runs out or
its client goes away."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from anyio import to_thread
from fastapi import Depends, Request
from fastapi import Query as FromQuery

from katsuo import checks
from katsuo.analytics import query as analytics_query
from katsuo.analytics import timeframe as T
from katsuo.analytics.budget import DISCONNECT, Budget
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


async def query_budget(
    request: Request, actor: AnyActor, svc: AppServices
) -> AsyncIterator[Budget]:
    """Admits the request (or answers 429/503) and gives it a budget of KATSUO_QUERY_TIMEOUT,
    stopped early when the client disconnects while the handler runs."""
    async with svc.admission.admit(actor):
        budget = Budget(svc.settings.query_timeout)
        watcher = asyncio.create_task(_stop_on_disconnect(request, budget))
        try:
            yield budget
        finally:
            watcher.cancel()
            budget.close()


async def _stop_on_disconnect(request: Request, budget: Budget) -> None:
    # The body, if any, was read before the handler started; what comes next is the disconnect.
    while (await request.receive())["type"] != "http.disconnect":
        pass
    await to_thread.run_sync(budget.stop, DISCONNECT)


QueryBudget = Annotated[Budget, Depends(query_budget, scope="function")]


def analytics(
    website_id: UUID,
    request: Request,
    actor: AnyActor,
    conn: Conn,
    svc: AppServices,
    declared: Annotated[AnalyticsParams, FromQuery()],
    budget: QueryBudget,
) -> Iterator[Analytics]:
    # `declared` validates and documents the parameters; the parsers read the whole mapping,
    # numbered filter repeats (path1, …) included.
    target = load_target(conn, actor, website_id)
    with Reader.of(svc.db, conn, budget=budget) as reader:
        yield Analytics(target, reader, dict(request.query_params), conn, analytics_query.now_us())


AnalyticsRequest = Annotated[Analytics, Depends(analytics, scope="function")]
