"""Segments and cohorts of a website (docs: Segments, Cohorts): saved filter sets, stored with
their parameters exactly as the client sent them."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, ValidationError, field_validator

from katsuo.analytics import query as analytics_query
from katsuo.api.auth import Ok
from katsuo.api.deps import AnyActor, Conn, PagingParams, UserActor, found, load_entity
from katsuo.api.inputs import Body
from katsuo.auth.permissions import authorize
from katsuo.store.records import Page, Segment
from katsuo.store.repositories import segments

router = APIRouter(prefix="/api/websites/{website_id}/segments", tags=["segments"])

SegmentType = Literal["segment", "cohort"]
Operator = Literal[
    "eq", "neq", "s", "ns", "c", "dnc", "re", "nre", "t", "f", "gt", "lt", "gte", "lte", "bf", "af"
]


class _Filter(BaseModel):
    name: str
    operator: Operator
    value: str


class _Action(BaseModel):
    type: str
    value: str


class SegmentParameters(BaseModel):
    """The shape Umami checks on create; other keys pass through
    (docs/schema.md#segment-parameters)."""

    filters: list[_Filter] | None = None
    match: Literal["all", "any"] | None = None
    date_range: str | None = Field(default=None, alias="dateRange")
    action: _Action | None = None


class UpdateSegmentBody(Body):
    type: SegmentType
    name: str = Field(min_length=1, max_length=200)
    parameters: dict[str, Any]

    def check(self) -> None:
        """The parameters as a query will read them: a definition no query could use (a bad
        filter, an out-of-range `dateRange`) is refused now rather than failing every query."""
        analytics_query.check_saved(self.parameters, analytics_query.now_us())


class CreateSegmentBody(UpdateSegmentBody):
    @field_validator("parameters")
    @classmethod
    def _shape(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        try:
            SegmentParameters.model_validate(parameters)
        except ValidationError as error:
            first = error.errors()[0]
            raise ValueError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
        return parameters  # stored as given, not as parsed


def _website(conn, actor, website_id: UUID, action: str):
    kind, entity = load_entity(conn, website_id)
    authorize(actor, action, (kind, entity))
    return entity


def _load(conn, website_id: UUID, segment_id: UUID) -> Segment:
    return found(segments.get(conn, website_id, segment_id), "Segment not found")


@router.get("")
def list_segments(
    website_id: UUID,
    actor: AnyActor,
    conn: Conn,
    paging: PagingParams,
    segment_type: Annotated[SegmentType, Query(alias="type")],
) -> Page[Segment]:
    website = _website(conn, actor, website_id, "view")
    return segments.list_for_website(
        conn,
        website.id,
        segment_type=segment_type,
        search=paging.search,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post("")
def create_segment(
    website_id: UUID, body: CreateSegmentBody, actor: UserActor, conn: Conn
) -> Segment:
    website = _website(conn, actor, website_id, "update")
    body.check()
    return segments.create(
        conn,
        website_id=website.id,
        segment_type=body.type,
        name=body.name,
        parameters=body.parameters,
    )


@router.get("/{segment_id}")
def get_segment(website_id: UUID, segment_id: UUID, actor: AnyActor, conn: Conn) -> Segment:
    website = _website(conn, actor, website_id, "view")
    return _load(conn, website.id, segment_id)


@router.post("/{segment_id}")
def update_segment(
    website_id: UUID, segment_id: UUID, body: UpdateSegmentBody, actor: UserActor, conn: Conn
) -> Segment:
    website = _website(conn, actor, website_id, "update")
    segment = _load(conn, website.id, segment_id)
    body.check()
    return segments.update(
        conn,
        website.id,
        segment.id,
        segment_type=body.type,
        name=body.name,
        parameters=body.parameters,
    )


@router.delete("/{segment_id}")
def delete_segment(website_id: UUID, segment_id: UUID, actor: UserActor, conn: Conn) -> Ok:
    website = _website(conn, actor, website_id, "delete")
    segment = _load(conn, website.id, segment_id)
    segments.delete(conn, segment.id)
    return Ok()
