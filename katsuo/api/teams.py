"""Team management (docs: API › Teams): teams, joining by access code, members and their roles,
and the websites, links and pixels a team owns."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import Field

from katsuo.api.auth import Ok
from katsuo.api.deps import Conn, PagingParams, UserActor, found
from katsuo.api.inputs import Body
from katsuo.auth.permissions import OWNER, Actor, authorize, hide_access_codes
from katsuo.errors import BadRequest
from katsuo.store.records import Link, Page, Pixel, Team, TeamMember, TeamMemberWithUser
from katsuo.store.repositories import links, pixels, teams, users, websites

router = APIRouter(prefix="/api/teams", tags=["teams"])

# team-owner is only ever given at creation (docs/permissions.md#teams).
AssignableRole = Literal["team-member", "team-view-only", "team-manager"]

NOT_MANAGER = "You must be the owner/manager of this team."
NOT_MEMBER = "The User does not exists on this team."


class CreateTeamBody(Body):
    name: str = Field(min_length=1, max_length=50)
    owner_id: UUID | None = Field(default=None, alias="ownerId")


class UpdateTeamBody(Body):
    # Umami's UI regenerates the access code itself (`team_` + 16 random letters or digits) and
    # posts the whole team back, so other keys are ignored.
    name: str | None = Field(default=None, min_length=1, max_length=50)
    access_code: str | None = Field(default=None, alias="accessCode", min_length=1, max_length=50)


class JoinBody(Body):
    access_code: str = Field(alias="accessCode", min_length=1, max_length=50)


class AddMemberBody(Body):
    user_id: UUID = Field(alias="userId")
    role: AssignableRole


class RoleBody(Body):
    role: AssignableRole


def load_team(conn, team_id: UUID) -> Team:
    return found(teams.get(conn, team_id), "Team not found.", code="team-not-found")


def _viewable_team(conn, actor: Actor, team_id: UUID) -> Team:
    team = load_team(conn, team_id)
    authorize(actor, "view", ("team", team))
    return team


@router.get("")
def list_teams(actor: UserActor, conn: Conn, paging: PagingParams) -> Page[teams.TeamListing]:
    # Umami's schema for this list has no `search`
    # (docs/permissions.md#lists-paging-order-and-search).
    listed = teams.list_for_user(conn, actor.user.id, page=paging.page, page_size=paging.page_size)
    return hide_access_codes(actor, listed)


@router.post("")
def create_team(body: CreateTeamBody, actor: UserActor, conn: Conn) -> list[Team | TeamMember]:
    """Returns `[team, ownerMembership]`, as Umami does."""
    authorize(actor, "create", ("team", None))
    owner_id = actor.user.id
    if body.owner_id is not None and body.owner_id != owner_id:
        # Making someone else the owner is for administrators only.
        authorize(actor, "create-for-other", ("team", None))
        owner_id = found(users.get(conn, body.owner_id), "User not found").id
    team, owner = teams.create(conn, name=body.name, owner_id=owner_id)
    return [team, owner]


@router.post("/join")
def join_team(body: JoinBody, actor: UserActor, conn: Conn) -> TeamMember:
    team = found(
        teams.find_by_access_code(conn, body.access_code), "Team not found.", code="team-not-found"
    )
    if teams.member(conn, team.id, actor.user.id) is not None:
        raise BadRequest("User is already a team member.")
    return teams.add_member(conn, team.id, actor.user.id, "team-member")


@router.get("/{team_id}")
def get_team(team_id: UUID, actor: UserActor, conn: Conn) -> teams.TeamWithMembers:
    _viewable_team(conn, actor, team_id)
    return hide_access_codes(actor, teams.get_with_members(conn, team_id))


@router.post("/{team_id}")
def update_team(team_id: UUID, body: UpdateTeamBody, actor: UserActor, conn: Conn) -> Team:
    team = load_team(conn, team_id)
    authorize(actor, "update", ("team", team), NOT_MANAGER)
    changes = body.model_dump(include={"name", "access_code"}, exclude_none=True)
    if "access_code" in changes and teams.access_code_taken(
        conn, changes["access_code"], except_id=team.id
    ):
        raise BadRequest("That access code is already taken.")
    return teams.update(conn, team.id, **changes)


@router.delete("/{team_id}")
def delete_team(team_id: UUID, actor: UserActor, conn: Conn) -> Ok:
    team = load_team(conn, team_id)
    authorize(actor, "delete", ("team", team), NOT_MANAGER)
    teams.delete(conn, team.id)
    return Ok()


@router.get("/{team_id}/users")
def list_members(
    team_id: UUID, actor: UserActor, conn: Conn, paging: PagingParams
) -> Page[TeamMemberWithUser]:
    team = load_team(conn, team_id)
    authorize(actor, "view", ("team", team), "You must be a member of this team.")
    return teams.members(
        conn, team.id, search=paging.search, page=paging.page, page_size=paging.page_size
    )


@router.post("/{team_id}/users")
def add_member(team_id: UUID, body: AddMemberBody, actor: UserActor, conn: Conn) -> TeamMember:
    team = load_team(conn, team_id)
    authorize(actor, "manage-members", ("team", team), NOT_MANAGER)
    user = found(users.get(conn, body.user_id), "User not found")
    if teams.member(conn, team.id, user.id) is not None:
        raise BadRequest("User is already a member of the Team.")
    return teams.add_member(conn, team.id, user.id, body.role)


@router.get("/{team_id}/users/{user_id}")
def get_member(team_id: UUID, user_id: UUID, actor: UserActor, conn: Conn) -> TeamMember:
    team = load_team(conn, team_id)
    authorize(actor, "manage-members", ("team", team), NOT_MANAGER)
    return found(teams.member(conn, team.id, user_id), NOT_MEMBER)


@router.post("/{team_id}/users/{user_id}")
def update_member(
    team_id: UUID, user_id: UUID, body: RoleBody, actor: UserActor, conn: Conn
) -> TeamMember:
    team = load_team(conn, team_id)
    authorize(actor, "manage-members", ("team", team), NOT_MANAGER)
    _not_the_owner(_membership(conn, team.id, user_id))
    return teams.set_member_role(conn, team.id, user_id, body.role)


@router.delete("/{team_id}/users/{user_id}")
def remove_member(team_id: UUID, user_id: UUID, actor: UserActor, conn: Conn) -> Ok:
    team = load_team(conn, team_id)
    authorize(actor, "remove-member", ("team", (team, user_id)), NOT_MANAGER)
    _not_the_owner(_membership(conn, team.id, user_id))
    teams.remove_member(conn, team.id, user_id)
    return Ok()


def _membership(conn, team_id: UUID, user_id: UUID) -> TeamMember:
    membership = teams.member(conn, team_id, user_id)
    if membership is None:
        raise BadRequest(NOT_MEMBER)
    return membership


def _not_the_owner(membership: TeamMember) -> None:
    # A team always has its owner: nobody (admins included) changes or removes that membership,
    # and the owner cannot leave; the team is deleted instead.
    if membership.role == OWNER:
        raise BadRequest("The team owner's membership cannot be changed or removed.")


@router.get("/{team_id}/websites")
def team_websites(
    team_id: UUID, actor: UserActor, conn: Conn, paging: PagingParams
) -> Page[websites.TeamWebsite]:
    team = _viewable_team(conn, actor, team_id)
    return websites.list_for_team(
        conn, team.id, search=paging.search, page=paging.page, page_size=paging.page_size
    )


@router.get("/{team_id}/links")
def team_links(team_id: UUID, actor: UserActor, conn: Conn, paging: PagingParams) -> Page[Link]:
    team = _viewable_team(conn, actor, team_id)
    return links.list_for_team(
        conn, team.id, search=paging.search, page=paging.page, page_size=paging.page_size
    )


@router.get("/{team_id}/pixels")
def team_pixels(team_id: UUID, actor: UserActor, conn: Conn, paging: PagingParams) -> Page[Pixel]:
    team = _viewable_team(conn, actor, team_id)
    return pixels.list_for_team(
        conn, team.id, search=paging.search, page=paging.page, page_size=paging.page_size
    )
