"""Saved reports (docs: API › Reports, the definitions only): list, create, read, update and
delete the report definitions of a website. Running reports lives with the analytics."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import Field

from katsuo.api.auth import Ok
from katsuo.api.deps import AnyActor, Conn, PagingParams, UserActor, found, load_entity
from katsuo.api.inputs import Body
from katsuo.auth.permissions import authorize
from katsuo.store.records import Page, Report
from katsuo.store.repositories import entities, reports

router = APIRouter(tags=["reports"])

ReportType = Literal[
    "attribution",
    "breakdown",
    "funnel",
    "goal",
    "journey",
    "performance",
    "retention",
    "revenue",
    "utm",
]
TypeFilter = Annotated[ReportType | None, Query(alias="type")]


class ReportBody(Body):
    website_id: UUID = Field(alias="websiteId")
    type: ReportType
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=500)
    parameters: dict[str, Any]


def load_report(conn, report_id: UUID) -> Report:
    return found(reports.get(conn, report_id), "Report not found")


def report_target(conn, report: Report) -> tuple[str, tuple]:
    """The policy target of a report: the report and its website (None once that is gone)."""
    website = entities.find(conn, report.website_id)
    return "report", (report, website[1] if website else None)


def _website_reports(
    conn, actor, website_id: UUID, report_type: str | None, paging
) -> Page[Report]:
    kind, entity = load_entity(conn, website_id)
    authorize(actor, "view", (kind, entity))
    return reports.list_for_website(
        conn, entity.id, report_type=report_type, page=paging.page, page_size=paging.page_size
    )


@router.get("/api/reports")
def list_reports(
    actor: AnyActor,
    conn: Conn,
    paging: PagingParams,
    website_id: Annotated[UUID, Query(alias="websiteId")],
    report_type: TypeFilter = None,
) -> Page[Report]:
    return _website_reports(conn, actor, website_id, report_type, paging)


@router.get("/api/websites/{website_id}/reports")
def website_reports(
    website_id: UUID,
    actor: AnyActor,
    conn: Conn,
    paging: PagingParams,
    report_type: TypeFilter = None,
) -> Page[Report]:
    return _website_reports(conn, actor, website_id, report_type, paging)


@router.post("/api/reports")
def create_report(body: ReportBody, actor: UserActor, conn: Conn) -> Report:
    kind, entity = load_entity(conn, body.website_id)
    authorize(actor, "update", (kind, entity))
    return reports.create(
        conn,
        user_id=actor.user.id,
        website_id=entity.id,
        report_type=body.type,
        name=body.name,
        description=body.description,
        parameters=body.parameters,
    )


# `:uuid` keeps /api/reports/funnel and the other report runners out of these routes.
@router.get("/api/reports/{report_id:uuid}")
def get_report(report_id: UUID, actor: AnyActor, conn: Conn) -> Report:
    report = load_report(conn, report_id)
    authorize(actor, "view", report_target(conn, report))
    return report


@router.post("/api/reports/{report_id:uuid}")
def update_report(report_id: UUID, body: ReportBody, actor: UserActor, conn: Conn) -> Report:
    report = load_report(conn, report_id)
    authorize(actor, "update", report_target(conn, report))
    if body.website_id != report.website_id:
        # Moving a report to another website needs the right to update that website too.
        kind, entity = load_entity(conn, body.website_id)
        authorize(actor, "update", (kind, entity))
    return reports.update(
        conn,
        report.id,
        website_id=body.website_id,
        report_type=body.type,
        name=body.name,
        description=body.description,
        parameters=body.parameters,
    )


@router.delete("/api/reports/{report_id:uuid}")
def delete_report(report_id: UUID, actor: UserActor, conn: Conn) -> Ok:
    report = load_report(conn, report_id)
    authorize(actor, "delete", report_target(conn, report))
    reports.delete(conn, report.id)
    return Ok()
