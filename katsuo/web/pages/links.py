"""Links and pixels: lists (personal or a team's) with create, edit, delete and the URL or
snippet to copy. The two differ only in a link's target URL, so one set of pages serves both."""

from __future__ import annotations

from types import ModuleType
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import Response

from katsuo.auth.permissions import can
from katsuo.store.repositories import links, pixels
from katsuo.web.templating import UserPage

router = APIRouter(include_in_schema=False)


def _list_route(kind: str, repository: ModuleType, collect_path: str, public_url_setting: str) -> None:
    def entity_list(
        page: UserPage, team_id: UUID | None = None, q: str = Query("", max_length=200), p: int = Query(1, ge=1)
    ) -> Response:
        team = page.use_team(team_id)
        if team is not None:
            listed = repository.list_for_team(page.conn, team.id, search=q or None, page=p, page_size=20)
        else:
            listed = repository.list_for_user(page.conn, page.user.id, search=q or None, page=p, page_size=20)
        # LINKS_URL / PIXELS_URL replace the whole prefix in front of the slug, as in Umami.
        prefix = getattr(page.settings, public_url_setting) or page.base + collect_path
        return page.render_part(
            "links/list.html", "links/_rows.html",
            kind=kind, listed=listed, q=q, prefix=prefix.rstrip("/"),
            may_create=can(page.actor, "create", (kind, team)),
        )

    router.add_api_route(f"/{kind}s", entity_list, methods=["GET"], name=f"{kind}_list_page")
    router.add_api_route(f"/teams/{{team_id}}/{kind}s", entity_list, methods=["GET"], name=f"team_{kind}_list_page")


_list_route("link", links, "/q", "links_url")
_list_route("pixel", pixels, "/p", "pixels_url")
