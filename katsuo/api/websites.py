"""Website management (docs: API › Websites): CRUD, share slug, reset, transfer."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import Field, StrictInt

from katsuo import removals
from katsuo.api.auth import Ok
from katsuo.api.deps import AnyActor, AppServices, Conn, PagingParams, UserActor
from katsuo.api.domains import Domain
from katsuo.api.inputs import Body
from katsuo.auth.permissions import authorize
from katsuo.config import MAX_RETENTION_DAYS
from katsuo.errors import BadRequest, NotFound
from katsuo.store.records import Page, Website
from katsuo.store.repositories import entities, shares, teams, users, websites

router = APIRouter(prefix="/api/websites", tags=["websites"])


class CreateWebsiteBody(Body):
    id: UUID | None = None
    name: str = Field(min_length=1, max_length=100)
    domain: Domain | None = Field(default=None, max_length=500)
    share_id: str | None = Field(default=None, alias="shareId", min_length=1, max_length=100)
    team_id: UUID | None = Field(default=None, alias="teamId")


class UpdateWebsiteBody(Body):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    domain: Domain | None = Field(default=None, max_length=500)
    share_id: str | None = Field(default=None, alias="shareId", min_length=1, max_length=100)
    # Katsuo's: days to keep collected data; null follows KATSUO_RETENTION_DAYS.
    retention_days: StrictInt | None = Field(
        default=None, alias="retentionDays", ge=1, le=MAX_RETENTION_DAYS
    )


class TransferBody(Body):
    user_id: UUID | None = Field(default=None, alias="userId")
    team_id: UUID | None = Field(default=None, alias="teamId")


def load_website(conn, website_id: UUID) -> Website:
    website = websites.get(conn, website_id)
    if website is None:
        raise NotFound("Website not found")
    return website


@router.get("")
def list_websites(
    actor: UserActor,
    conn: Conn,
    paging: PagingParams,
    include_teams: Annotated[bool, Query(alias="includeTeams")] = False,
) -> Page[websites.WebsiteWithUser]:
    return websites.list_for_user(
        conn,
        actor.user.id,
        include_teams=include_teams,
        search=paging.search,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post("")
def create_website(body: CreateWebsiteBody, actor: UserActor, conn: Conn) -> Website:
    team = None
    if body.team_id is not None:
        team = teams.get(conn, body.team_id)
        if team is None:
            raise NotFound("Team not found", code="team-not-found")
    authorize(actor, "create", ("website", team))
    if body.id is not None and entities.id_taken(conn, body.id):
        raise BadRequest(entities.ID_TAKEN)
    if body.share_id and shares.slug_taken(conn, body.share_id):
        raise BadRequest("That share ID is already taken.")
    website = websites.create(
        conn,
        website_id=body.id,
        name=body.name,
        domain=body.domain,
        created_by=actor.user.id,
        user_id=None if team else actor.user.id,
        team_id=team.id if team else None,
    )
    if body.share_id:
        shares.create_website_share(conn, website.id, body.share_id)
        website = websites.get(conn, website.id)
    return website


@router.get("/{website_id}")
def get_website(website_id: UUID, actor: AnyActor, conn: Conn) -> Website:
    website = load_website(conn, website_id)
    authorize(actor, "view", ("website", website))
    return website


@router.post("/{website_id}")
def update_website(
    website_id: UUID, body: UpdateWebsiteBody, actor: UserActor, conn: Conn
) -> Website:
    website = load_website(conn, website_id)
    authorize(actor, "update", ("website", website))
    changes = body.model_dump(include={"name", "domain"}, exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        raise BadRequest("name: must not be null")
    websites.update(conn, website.id, **changes)
    # `shareId`: a slug turns the share URL on (or changes it), null turns it off
    # (docs/schema.md#the-websites-shareid).
    if "share_id" in body.model_fields_set:
        if body.share_id is None:
            shares.delete_for_entity(conn, website.id)
        elif body.share_id != website.share_id:
            if shares.slug_taken(conn, body.share_id):
                raise BadRequest("That share ID is already taken.")
            shares.create_website_share(conn, website.id, body.share_id)
    if "retention_days" in body.model_fields_set:
        websites.set_retention(conn, website.id, body.retention_days)
    return websites.get(conn, website.id)


@router.delete("/{website_id}")
def delete_website(website_id: UUID, actor: UserActor, conn: Conn, svc: AppServices) -> Ok:
    website = load_website(conn, website_id)
    authorize(actor, "delete", ("website", website))
    removals.delete_website(conn, svc, website.id)
    return Ok()


@router.post("/{website_id}/reset")
def reset_website(website_id: UUID, actor: UserActor, conn: Conn, svc: AppServices) -> Ok:
    website = load_website(conn, website_id)
    authorize(actor, "update", ("website", website))
    removals.reset_website(conn, svc, website.id)
    return Ok()


@router.post("/{website_id}/transfer")
def transfer_website(website_id: UUID, body: TransferBody, actor: UserActor, conn: Conn) -> Website:
    website = load_website(conn, website_id)
    if body.team_id is not None:
        team = teams.get(conn, body.team_id)
        if team is None:
            raise NotFound("Team not found", code="team-not-found")
        authorize(actor, "transfer-to-team", ("website", (website, team)))
        return websites.transfer(conn, website.id, user_id=None, team_id=team.id)
    if body.user_id is not None:
        user = users.get(conn, body.user_id)
        if user is None:
            raise NotFound("User not found")
        authorize(actor, "transfer-to-user", ("website", (website, user)))
        return websites.transfer(conn, website.id, user_id=user.id, team_id=None)
    raise BadRequest("userId or teamId is required")
