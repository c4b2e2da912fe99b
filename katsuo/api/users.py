"""User management (docs: API › Users). Admins manage everyone; users may read and edit themselves."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from katsuo import removals
from katsuo.api.auth import Ok, end_other_logins
from katsuo.api.deps import AppServices, Conn, PagingParams, UserActor
from katsuo.api.inputs import Body
from katsuo.api.me import check_current_password
from katsuo.auth import passwords
from katsuo.auth.passwords import hash_password
from katsuo.auth.permissions import authorize, hide_access_codes
from katsuo.errors import BadRequest, NotFound
from katsuo.store.records import Page, Record, Timestamp, User
from katsuo.store.repositories import teams, users, websites

router = APIRouter(prefix="/api/users", tags=["users"])

Role = Literal["admin", "user", "view-only"]


class CreateUserBody(Body):
    id: UUID | None = None
    username: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=passwords.MIN_LENGTH, max_length=passwords.MAX_LENGTH)
    role: Role


class UpdateUserBody(Body):
    username: str | None = Field(default=None, min_length=1, max_length=255)
    password: str | None = Field(
        default=None, min_length=passwords.MIN_LENGTH, max_length=passwords.MAX_LENGTH
    )
    # Required with `password` when the id is the caller's own.
    current_password: str | None = Field(default=None, alias="currentPassword", max_length=255)
    role: Role | None = None


class CreatedUser(Record):
    id: UUID
    username: str
    role: str


class UserDetails(CreatedUser):
    created_at: Timestamp | None = None


def _load(conn, user_id: UUID) -> User:
    user = users.get(conn, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


@router.post("")
def create_user(body: CreateUserBody, actor: UserActor, conn: Conn) -> CreatedUser:
    authorize(actor, "create", ("user", None))
    if users.username_taken(conn, body.username):
        raise BadRequest("User already exists")
    if body.id is not None and users.get(conn, body.id) is not None:
        raise BadRequest("User already exists")
    user = users.create(
        conn,
        user_id=body.id,
        username=body.username,
        password_hash=hash_password(body.password),
        role=body.role,
    )
    return CreatedUser.model_validate(user, from_attributes=True)


@router.get("/{user_id}")
def get_user(user_id: UUID, actor: UserActor, conn: Conn) -> UserDetails:
    user = _load(conn, user_id)
    authorize(actor, "view", ("user", user))
    return UserDetails.model_validate(user, from_attributes=True)


@router.post("/{user_id}")
def update_user(
    user_id: UUID,
    body: UpdateUserBody,
    actor: UserActor,
    conn: Conn,
    svc: AppServices,
    request: Request,
    response: Response,
) -> UserDetails:
    user = _load(conn, user_id)
    authorize(actor, "update", ("user", user))
    changes: dict = {}
    if body.password:
        # One's own password needs the current one, whatever the credential (a stolen login token
        # or API key must not be enough to take the account over).
        if user.id == actor.user.id:
            check_current_password(conn, user.id, body.current_password)
        changes["password_hash"] = hash_password(body.password)
    # Only admins may rename or change roles; for others those fields are ignored
    # (docs/permissions.md#users).
    if actor.is_admin:
        if body.username and body.username != user.username:
            if users.username_taken(conn, body.username, except_id=user.id):
                raise BadRequest("User already exists")
            changes["username"] = body.username
        if body.role and body.role != user.role:
            if user.id == actor.user.id:
                raise BadRequest("You cannot change your own role.")
            changes["role"] = body.role
    updated = users.update(conn, user.id, **changes)
    if user.role == "admin" and "role" in changes:
        keep_an_admin(conn)
    if "password_hash" in changes or "role" in changes:
        end_other_logins(updated, actor, conn, svc, request, response)
    return UserDetails.model_validate(updated, from_attributes=True)


def keep_an_admin(conn) -> None:
    """Refuses a change that left the instance without an administrator (the transaction of the
    request is rolled back with the error)."""
    if users.admin_count(conn) == 0:
        raise BadRequest("The last administrator cannot be removed or demoted.")


@router.delete("/{user_id}")
def delete_user(user_id: UUID, actor: UserActor, conn: Conn, svc: AppServices) -> Ok:
    user = _load(conn, user_id)
    authorize(actor, "delete", ("user", user))
    if actor.user.id == user.id:
        raise BadRequest("You cannot delete yourself.")
    removals.delete_user(conn, svc, user.id)
    keep_an_admin(conn)
    return Ok()


@router.get("/{user_id}/websites")
def user_websites(
    user_id: UUID,
    actor: UserActor,
    conn: Conn,
    paging: PagingParams,
    include_teams: Annotated[bool, Query(alias="includeTeams")] = False,
) -> Page[websites.WebsiteWithUser]:
    user = _load(conn, user_id)
    authorize(actor, "view", ("user", user))
    return websites.list_for_user(
        conn,
        user.id,
        include_teams=include_teams,
        search=paging.search,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.get("/{user_id}/teams")
def user_teams(
    user_id: UUID, actor: UserActor, conn: Conn, paging: PagingParams
) -> Page[teams.TeamListing]:
    user = _load(conn, user_id)
    authorize(actor, "view", ("user", user))
    listed = teams.list_for_user(conn, user.id, page=paging.page, page_size=paging.page_size)
    return hide_access_codes(actor, listed)
