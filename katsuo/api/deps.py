"""FastAPI dependencies: the database connection, the acting identity, paging parameters."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated, TypeVar
from uuid import UUID

import sqlalchemy as sa
from fastapi import Depends, Query, Request

from katsuo.api import share_scope
from katsuo.api.inputs import SafeText
from katsuo.auth import api_keys as keys
from katsuo.auth import browser, share_tokens
from katsuo.auth.permissions import Actor
from katsuo.errors import NotFound, Unauthorized
from katsuo.services import Services
from katsuo.store.records import User
from katsuo.store.repositories import api_keys, entities, shares, teams, users

T = TypeVar("T")
log = logging.getLogger("katsuo.auth")


def services(request: Request) -> Services:
    return request.app.state.services


def db_connection(request: Request) -> Iterator[sa.Connection]:
    """One transaction per request, committed when the handler returns without error."""
    with request.app.state.services.db.begin() as conn:
        yield conn


# scope="function": commit before the response leaves, so a client never sees a 200 for a change
# that is not yet (or never) committed, and its next request always sees the change.
Conn = Annotated[sa.Connection, Depends(db_connection, scope="function")]
AppServices = Annotated[Services, Depends(services)]


def current_actor(request: Request, conn: Conn, svc: AppServices) -> Actor:
    """Who is calling: a user from a login token or API key, and/or the ids a share token opens."""
    actor = Actor()
    authorization = request.headers.get("authorization", "")
    scheme, _, credential = authorization.partition(" ")
    bearer = credential.strip() if scheme.lower() == "bearer" else ""
    api_key = request.headers.get("x-umami-api-key", "").strip()
    if not api_key and keys.looks_like_key(bearer):
        api_key = bearer
    if not api_key and not bearer:
        bearer = browser.cookie_token(request)  # the dashboard's login cookie (auth/browser.py)
    user = None
    if api_key:
        user_id = api_keys.owner_of(conn, keys.digest(api_key))
        user = users.get(conn, user_id) if user_id is not None else None
    elif bearer:
        user, actor.auth_key = login_user(conn, svc, bearer)
        actor.token = bearer
    if user is not None:
        actor.user = user
        actor.team_roles = teams.roles_of(conn, user.id)
        log.debug(
            "%s %s: user %s by %s",
            request.method,
            request.url.path,
            user.username,
            "API key" if api_key else "login token",
        )
    elif api_key or bearer:
        log.debug(
            "%s %s: credentials rejected (unknown, expired or logged out)",
            request.method,
            request.url.path,
        )
    share_token = request.headers.get("x-umami-share-token", "")
    # A share token counts only together with the share-context header (docs/shares.md#the-token).
    if share_token and request.headers.get("x-umami-share-context"):
        share_id = share_tokens.share_id(share_token, svc.settings.secret)
        if share_id is not None:
            actor.share_token = share_token
            actor.share_id = str(share_id)
            actor.shared_ids = _shared_ids(request, conn, share_id, svc.settings.base_path)
        else:
            log.debug(
                "%s %s: share token rejected (forged or expired)", request.method, request.url.path
            )
    return actor


def login_user(conn: sa.Connection, svc: Services, token: str) -> tuple[User | None, str | None]:
    """The live user a login token stands for, if the login was not ended since (logout, or a
    password or role change, auth/logins.py); and its Redis auth key."""
    login = svc.logins.resolve(token)
    found = users.get_for_login(conn, login.user_id) if login is not None else None
    if found is None or found[1] != login.generation:
        return None, None
    return found[0], login.auth_key


def _shared_ids(
    request: Request, conn: sa.Connection, share_id: UUID, base_path: str
) -> frozenset[UUID]:
    """What a share token opens on this request, read again each time: its entity if this route
    belongs to a section the share publishes; nothing once the share or its entity is gone."""
    section = share_scope.section_of(request, base_path)
    share = shares.get(conn, share_id) if section else None
    published = share is not None and share_scope.publishes(share.parameters, section)
    target = entities.of_share(conn, share) if published else None
    if target is None:
        log.debug("%s %s: share token opens nothing here", request.method, request.url.path)
        return frozenset()
    return frozenset({target[1].id})


def authenticated(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
    """A user or a share token; anonymous callers get 401."""
    if actor.user is None and not actor.shared_ids:
        raise Unauthorized()
    return actor


def user_required(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
    if actor.user is None:
        raise Unauthorized()
    return actor


AnyActor = Annotated[Actor, Depends(authenticated)]
UserActor = Annotated[Actor, Depends(user_required)]


class Paging:
    """`page` (1-based), `pageSize` (default 20) and `search` of list endpoints
    (docs/permissions.md#lists-paging-order-and-search)."""

    def __init__(
        self,
        page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
        page_size: Annotated[int, Query(alias="pageSize", ge=1, le=100_000)] = 20,
        search: Annotated[SafeText | None, Query(max_length=200)] = None,
    ):
        self.page = page
        self.page_size = page_size
        self.search = search or None


PagingParams = Annotated[Paging, Depends()]


def found(entity: T | None, message: str, **extra) -> T:
    """The entity, or a 404 with Umami's message when the lookup came back empty."""
    if entity is None:
        raise NotFound(message, **extra)
    return entity


def load_entity(conn: sa.Connection, entity_id: UUID) -> tuple[str, entities.Entity]:
    """The website (or link, or pixel) an id names, as a policy target; 404 when there is none."""
    return found(entities.find(conn, entity_id), "Website not found")
