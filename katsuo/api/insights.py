"""Running reports (docs: API › Reports, the report endpoints): `POST /api/reports/<type>` with
the documented body `{websiteId, type, filters, parameters}`, and a saved report run by its id.

Umami's dashboard runs a saved report by reading it (`GET /api/reports/:id`) and posting its
`parameters`, with the current date range and filters, to `/api/reports/<type>`; that works
here as it is. `POST /api/reports/:id/run` does the same merge on the server for clients that
only know the id.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field, create_model

from katsuo.analytics import reports
from katsuo.analytics.budget import Budget
from katsuo.analytics.query import now_us
from katsuo.analytics.reports import params as report_params
from katsuo.analytics.runner import Reader
from katsuo.api.analytics_params import Text, optional
from katsuo.api.deps import AnyActor, AppServices, Conn
from katsuo.api.inputs import Body, SafeText
from katsuo.api.reports import load_report, report_target
from katsuo.api.targets import QueryBudget, load_target
from katsuo.auth.permissions import Actor, authorize

router = APIRouter(tags=["reports"])


# The filters of a report body: Umami's report filter keys, typed; other keys (numbered repeats
# included) are ignored, as Umami's validation strips them.
ReportFilters = create_model(
    "ReportFilters",
    segment=(optional(UUID), None),
    cohort=(optional(UUID), None),
    match=(optional(Literal["all", "any"]), None),
    eventType=(optional(int | SafeText, union_mode="left_to_right"), None),
    **{name: (Text, None) for name in report_params.fields()},
)


class ReportRequest(Body):
    website_id: UUID = Field(alias="websiteId")
    type: Any = None
    filters: ReportFilters | None = None  # type: ignore[valid-type]
    parameters: dict[str, Any] | None = None  # each report reads its own (reports/params.py)


class SavedReportRun(Body):
    """The date range and filters to run a saved report with; `parameters` also override the
    saved ones."""

    filters: ReportFilters | None = None  # type: ignore[valid-type]
    parameters: dict[str, Any] | None = None


def _filters(filters: BaseModel | None) -> dict[str, Any] | None:
    return None if filters is None else filters.model_dump(mode="json", exclude_none=True)


def _run(
    report_type: str,
    website_id: UUID,
    body_type: Any,
    filters: Any,
    parameters: Any,
    actor: Actor,
    conn,
    svc,
    budget: Budget,
) -> Any:
    target = load_target(conn, actor, website_id)
    query, values = report_params.parse(
        report_type, body_type, filters, parameters, target, conn, now_us=now_us()
    )
    with Reader.of(svc.db, conn, budget=budget) as reader:
        return reports.RUNNERS[report_type](reader, query, values)


def _route(report_type: str, path: str) -> None:
    def run(
        body: ReportRequest, actor: AnyActor, conn: Conn, svc: AppServices, budget: QueryBudget
    ) -> Any:
        return _run(
            report_type,
            body.website_id,
            body.type,
            _filters(body.filters),
            body.parameters,
            actor,
            conn,
            svc,
            budget,
        )

    run.__name__ = f"run_{report_type}_report"
    router.post(path, summary=f"Run a {report_type} report")(run)


for _type in reports.RUNNERS:
    _route(_type, f"/api/reports/{_type}")
# The API page documents /goals; Umami's server (and its UI) use /goal.
_route("goal", "/api/reports/goals")


@router.post("/api/reports/{report_id:uuid}/run")
def run_saved_report(
    report_id: UUID,
    body: SavedReportRun,
    actor: AnyActor,
    conn: Conn,
    svc: AppServices,
    budget: QueryBudget,
) -> Any:
    report = load_report(conn, report_id)
    authorize(actor, "view", report_target(conn, report))
    saved = report.parameters if isinstance(report.parameters, dict) else {}
    parameters = {**saved, **(body.parameters or {})}
    return _run(
        report.type,
        report.website_id,
        report.type,
        _filters(body.filters),
        parameters,
        actor,
        conn,
        svc,
        budget,
    )
