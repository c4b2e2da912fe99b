"""Typed rows of the management plane, serialised in Umami's JSON shape (camelCase, ISO ms dates)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel


def iso_ms(value: datetime) -> str:
    """JavaScript's Date.toISOString(): UTC, milliseconds, trailing Z."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


Timestamp = Annotated[datetime, PlainSerializer(iso_ms, return_type=str)]


class Record(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class Counted(Record):
    """Umami's `_count` object on list rows, e.g. `{"websites": 2, "members": 3}`."""

    counts: dict[str, int] = Field(default_factory=dict, alias="_count")


class UserRef(Record):
    id: UUID
    username: str


class User(Record):
    id: UUID
    username: str
    role: str
    logo_url: str | None = None
    display_name: str | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    deleted_at: Timestamp | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class Team(Record):
    id: UUID
    name: str
    access_code: str | None = None
    logo_url: str | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    deleted_at: Timestamp | None = None


class TeamMember(Record):
    id: UUID
    team_id: UUID
    user_id: UUID
    role: str
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None


class TeamMemberWithUser(TeamMember):
    """A membership as team lists show it: with the member's id and username."""

    user: UserRef


class Website(Record):
    id: UUID
    name: str
    domain: str | None = None
    share_id: str | None = None
    reset_at: Timestamp | None = None
    user_id: UUID | None = None
    team_id: UUID | None = None
    created_by: UUID | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    deleted_at: Timestamp | None = None
    # Katsuo's: collected data older than this many days is deleted (ops/retention.py).
    retention_days: int | None = None


class Link(Record):
    id: UUID
    name: str
    url: str
    slug: str
    user_id: UUID | None = None
    team_id: UUID | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    deleted_at: Timestamp | None = None


class Pixel(Record):
    id: UUID
    name: str
    slug: str
    user_id: UUID | None = None
    team_id: UUID | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    deleted_at: Timestamp | None = None


class Report(Record):
    id: UUID
    user_id: UUID
    website_id: UUID
    type: str
    name: str
    description: str
    parameters: Any
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None


class Segment(Record):
    id: UUID
    website_id: UUID
    type: str
    name: str
    parameters: Any
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None


class Share(Record):
    id: UUID
    entity_id: UUID
    name: str
    share_type: int
    slug: str
    parameters: Any
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None


class ApiKey(Record):
    id: UUID
    user_id: UUID
    name: str
    prefix: str
    created_at: Timestamp | None = None
    last_used_at: Timestamp | None = None


T = TypeVar("T")


class Page(Record, Generic[T]):
    """A paged list: `{data, count, page, pageSize}`
    (docs/permissions.md#lists-paging-order-and-search)."""

    data: list[T]
    count: int
    page: int
    page_size: int
    order_by: str | None = Field(default=None)
