"""The caller's own account: session info, websites, password, API keys (docs: API › Me)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from katsuo.api.auth import Ok, SessionUser, end_other_logins
from katsuo.api.deps import AppServices, Conn, PagingParams, UserActor
from katsuo.api.inputs import Body
from katsuo.auth import api_keys as keys
from katsuo.auth import passwords
from katsuo.auth.passwords import hash_password, verify_password
from katsuo.auth.permissions import hide_access_codes
from katsuo.errors import BadRequest, NotFound
from katsuo.store.records import ApiKey, Page, Record, Timestamp
from katsuo.store.repositories import api_keys, teams, users, websites

router = APIRouter(prefix="/api/me", tags=["me"])


class MeResponse(Record):
    token: str | None
    auth_key: str | None
    share_token: str | None
    user: SessionUser


@router.get("")
def me(actor: UserActor) -> MeResponse:
    return MeResponse(
        token=actor.token,
        auth_key=actor.auth_key,
        share_token=actor.share_token,
        user=SessionUser.of(actor.user),
    )


@router.get("/websites")
def my_websites(
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


@router.get("/teams")
def my_teams(actor: UserActor, conn: Conn, paging: PagingParams) -> Page[teams.TeamListing]:
    listed = teams.list_for_user(conn, actor.user.id, page=paging.page, page_size=paging.page_size)
    return hide_access_codes(actor, listed)


class PasswordBody(Body):
    current_password: str = Field(alias="currentPassword", min_length=1, max_length=255)
    new_password: str = Field(
        alias="newPassword", min_length=passwords.MIN_LENGTH, max_length=passwords.MAX_LENGTH
    )


class PasswordChanged(Record):
    id: UUID
    username: str
    role: str
    created_at: Timestamp | None = None


@router.post("/password")
def change_password(
    body: PasswordBody,
    actor: UserActor,
    conn: Conn,
    svc: AppServices,
    request: Request,
    response: Response,
) -> PasswordChanged:
    check_current_password(conn, actor.user.id, body.current_password)
    user = users.update(conn, actor.user.id, password_hash=hash_password(body.new_password))
    end_other_logins(user, actor, conn, svc, request, response)
    return PasswordChanged.model_validate(user, from_attributes=True)


def check_current_password(conn, user_id: UUID, current_password: str | None) -> None:
    if not current_password or not verify_password(
        current_password, users.password_hash(conn, user_id) or ""
    ):
        raise BadRequest("Current password is incorrect")


class ApiKeyBody(Body):
    name: str = Field(min_length=1, max_length=100)


class NewApiKey(ApiKey):
    key: str  # shown once, never stored


@router.get("/api-keys")
def list_api_keys(actor: UserActor, conn: Conn) -> list[ApiKey]:
    return api_keys.list_for_user(conn, actor.user.id)


@router.post("/api-keys")
def create_api_key(body: ApiKeyBody, actor: UserActor, conn: Conn) -> NewApiKey:
    key = keys.generate()
    record = api_keys.create(
        conn,
        user_id=actor.user.id,
        name=body.name,
        prefix=keys.display_prefix(key),
        key_hash=keys.digest(key),
    )
    return NewApiKey(**record.model_dump(), key=key)


@router.delete("/api-keys/{key_id}")
def delete_api_key(key_id: UUID, actor: UserActor, conn: Conn) -> Ok:
    if not api_keys.delete(conn, user_id=actor.user.id, key_id=key_id):
        raise NotFound("API key not found")
    return Ok()
