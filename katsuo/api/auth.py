"""Authentication: login, token verification, logout (docs: API › Authentication)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import Field

from katsuo.api.deps import AppServices, Conn, UserActor
from katsuo.api.inputs import Body
from katsuo.auth import browser
from katsuo.auth.client import client_address
from katsuo.auth.passwords import verify_password
from katsuo.auth.permissions import Actor
from katsuo.errors import Unauthorized
from katsuo.services import Services
from katsuo.store.records import Record, Timestamp, User
from katsuo.store.repositories import teams, users

router = APIRouter(prefix="/api/auth", tags=["auth"])


class LoginBody(Body):
    username: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=255)


class SessionUser(Record):
    id: UUID
    username: str
    role: str
    created_at: Timestamp | None = None
    is_admin: bool

    @classmethod
    def of(cls, user: User) -> SessionUser:
        return cls(
            id=user.id,
            username=user.username,
            role=user.role,
            created_at=user.created_at,
            is_admin=user.is_admin,
        )


class TeamSummary(Record):
    id: UUID
    name: str
    logo_url: str | None = None


class VerifiedUser(SessionUser):
    teams: list[TeamSummary]

    @classmethod
    def load(cls, conn, user: User) -> VerifiedUser:
        return cls(
            **SessionUser.of(user).model_dump(),
            teams=[
                TeamSummary.model_validate(team, from_attributes=True)
                for team in teams.teams_of(conn, user.id)
            ],
        )


class LoginResponse(Record):
    token: str
    user: VerifiedUser


class Ok(Record):
    ok: bool = True


@router.post("/login")
def login(body: LoginBody, request: Request, conn: Conn, svc: AppServices) -> LoginResponse:
    ip = client_address(request, request.app.state.settings)
    svc.login_limiter.check(ip, body.username)
    found = users.find_login(conn, body.username)
    if found is None or not verify_password(body.password, found[1]):
        svc.login_limiter.failed(ip, body.username)
        raise Unauthorized(code="incorrect-username-password")
    user, generation = users.get_for_login(conn, found[0].id)
    token, _ = svc.logins.issue(user, generation)
    return LoginResponse(token=token, user=VerifiedUser.load(conn, user))


@router.post("/verify")
def verify(actor: UserActor, conn: Conn) -> VerifiedUser:
    return VerifiedUser.load(conn, actor.user)


@router.post("/logout")
def logout(actor: UserActor, svc: AppServices) -> Ok:
    # Unlike Umami (which deletes the wrong Redis key), this really ends a Redis-backed login.
    svc.logins.revoke(actor.auth_key)
    return Ok()


def end_other_logins(
    user: User, actor: Actor, conn, svc: Services, request: Request, response: Response
) -> None:
    """After a password or role change: every login of the user ends, except the one making the
    change when it is the user's own. With Redis that login goes on with its token; without, it
    gets a new token, which the browser receives as a new login cookie when the cookie was used
    (a bearer-token client logs in again)."""
    generation = users.end_logins(conn, user.id)
    if actor.token is None or actor.user is None or actor.user.id != user.id:
        return
    token = svc.logins.carry_over(actor.token, actor.auth_key, user, generation)
    if request.cookies.get(browser.COOKIE) == actor.token and token != actor.token:
        settings = request.app.state.settings
        browser.set_login_cookie(response, token, settings, secure=request.url.scheme == "https")
