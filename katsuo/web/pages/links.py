"""Links and pixels: lists (personal or a team's) with create, edit, delete and the URL or
snippet to copy, and each one's statistics (the website dashboard over the link's or pixel's id,
which every analytics endpoint accepts). The two differ only in a link's target URL, so one set
of pages serves both."""

from __future__ import annotations

from types import ModuleType
from uuid import UUID

from fastapi.responses import Response

from katsuo.auth.permissions import can
from katsuo.store.repositories import links, pixels
from katsuo.web.pages.websites import DASHBOARD_SCRIPTS
from katsuo.web.templating import PageError, PageNumber, SearchText, UserPage, page_router

router = page_router()


def _list_route(
    kind: str, repository: ModuleType, collect_path: str, public_url_setting: str
) -> None:
    def entity_list(
        page: UserPage, team_id: UUID | None = None, q: SearchText = "", p: PageNumber = 1
    ) -> Response:
        team = page.use_team(team_id)
        if team is not None:
            listed = repository.list_for_team(
                page.conn, team.id, search=q or None, page=p, page_size=20
            )
        else:
            listed = repository.list_for_user(
                page.conn, page.user.id, search=q or None, page=p, page_size=20
            )
        # LINKS_URL / PIXELS_URL replace the whole prefix in front of the slug, as in Umami.
        prefix = getattr(page.settings, public_url_setting) or page.base + collect_path
        return page.render_part(
            "links/list.html",
            "links/_rows.html",
            kind=kind,
            listed=listed,
            q=q,
            prefix=prefix.rstrip("/"),
            may_create=can(page.actor, "create", (kind, team)),
        )

    def entity_stats(page: UserPage, entity_id: UUID) -> Response:
        entity = repository.get(page.conn, entity_id)
        if entity is None or not can(page.actor, "view", (kind, entity)):
            raise PageError(404, f"{kind.capitalize()} not found")
        if entity.team_id in page.actor.team_roles:
            page.use_team(entity.team_id)
        prefix = getattr(page.settings, public_url_setting) or page.base + collect_path
        return page.render(
            "links/stats.html",
            kind=kind,
            website=entity,
            entity_kind=kind,
            share_slug=None,
            public_url=f"{prefix.rstrip('/')}/{entity.slug}",
            scripts=DASHBOARD_SCRIPTS,
        )

    router.add_api_route(f"/{kind}s", entity_list, methods=["GET"], name=f"{kind}_list_page")
    router.add_api_route(
        f"/{kind}s/{{entity_id}}", entity_stats, methods=["GET"], name=f"{kind}_stats_page"
    )
    router.add_api_route(
        f"/teams/{{team_id}}/{kind}s", entity_list, methods=["GET"], name=f"team_{kind}_list_page"
    )


_list_route("link", links, "/q", "links_url")
_list_route("pixel", pixels, "/p", "pixels_url")
