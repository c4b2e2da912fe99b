"""Administration (docs: API › Admin): every user, website and team, for admins only."""

from __future__ import annotations

from fastapi import APIRouter

from katsuo.api.deps import Conn, PagingParams, UserActor
from katsuo.auth.permissions import authorize, hide_access_codes
from katsuo.store.records import Page
from katsuo.store.repositories import teams, users, websites

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get("/users")
def all_users(actor: UserActor, conn: Conn, paging: PagingParams) -> Page[users.AdminUser]:
    authorize(actor, "list", ("admin", None))
    return users.list_all(conn, search=paging.search, page=paging.page, page_size=paging.page_size)


@router.get("/websites")
def all_websites(actor: UserActor, conn: Conn, paging: PagingParams) -> Page[websites.AdminWebsite]:
    authorize(actor, "list", ("admin", None))
    return websites.list_all(
        conn, search=paging.search, page=paging.page, page_size=paging.page_size
    )


@router.get("/teams")
def all_teams(actor: UserActor, conn: Conn, paging: PagingParams) -> Page[teams.TeamListing]:
    authorize(actor, "list", ("admin", None))
    listed = teams.list_all(
        conn, search=paging.search, page=paging.page, page_size=paging.page_size
    )
    return hide_access_codes(actor, listed)
