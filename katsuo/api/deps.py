"""FastAPI dependencies: the database connection, the acting identity, paging parameters."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated, TypeVar
from uuid import UUID

import sqlalchemy as sa
from fastapi import Depends, Query, Request

from katsuo.api.inputs import SafeText
from katsuo.auth import api_keys as keys
from katsuo.auth import browser, tokens
from katsuo.auth.permissions import Actor
from katsuo.errors import NotFound, Unauthorized
from katsuo.services import Services
from katsuo.store.repositories import api_keys, entities, teams, users

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
    user_id = None
    if api_key:
        user_id = api_keys.owner_of(conn, keys.digest(api_key))
    elif bearer:
        user_id, actor.auth_key = svc.logins.resolve(bearer)
        actor.token = bearer
    if user_id is not None and (user := users.get(conn, user_id)) is not None:
        actor.user = user
        actor.team_roles = teams.roles_of(conn, user.id)
        log.debug("%s %s: user %s by %s", request.method, request.url.path, user.username,
                  "API key" if api_key else "login token")
    elif api_key or bearer:
        log.debug("%s %s: credentials rejected (unknown, expired or logged out)", request.method, request.url.path)
    share_token = request.headers.get("x-umami-share-token", "")
    # A share token counts only together with the share-context header (access.md §5).
    if share_token and request.headers.get("x-umami-share-context"):
        claims = tokens.verify(share_token, svc.settings.secret)
        if claims and "shareId" in claims:
            actor.share_token = share_token
            actor.share_id = str(claims["shareId"])
            actor.shared_ids = frozenset(_shared_ids(claims))
        else:
            log.debug("%s %s: share token rejected", request.method, request.url.path)
    return actor


def _shared_ids(claims: dict) -> set[UUID]:
    found = set()
    for key in ("websiteId", "linkId", "pixelId", "boardId"):
        found.update(_uuids(claims.get(key)))
    for key in ("websiteIds", "linkIds", "pixelIds"):
        for value in claims.get(key) or ():
            found.update(_uuids(value))
    return found


def _uuids(value) -> list[UUID]:
    try:
        return [UUID(str(value))] if value else []
    except ValueError:
        return []


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
    """`page` (1-based), `pageSize` (default 20) and `search` of list endpoints (access.md §7)."""

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
