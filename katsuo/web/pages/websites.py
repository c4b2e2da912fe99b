"""Websites: the list (personal or a team's), and a website's settings page with its tracking
code, share URL, transfer, reset and delete."""

from __future__ import annotations

from uuid import UUID

from fastapi.responses import Response

from katsuo.auth.permissions import can, hide_access_codes
from katsuo.store.repositories import segments, shares, teams, websites
from katsuo.web.templating import (
    AnyPage,
    PageError,
    PageNumber,
    SearchText,
    SlugText,
    UserPage,
    page_router,
)

router = page_router()

PAGE_SIZE = 20
DASHBOARD_SCRIPTS = ["vendor/chart.umd.min.js", "vendor/chartjs-chart-geo.min.js", "dashboard.js"]


@router.get("/websites")
@router.get("/teams/{team_id}/websites")
def website_list(
    page: UserPage, team_id: UUID | None = None, q: SearchText = "", p: PageNumber = 1
) -> Response:
    team = page.use_team(team_id)
    if team is not None:
        listed = websites.list_for_team(
            page.conn, team.id, search=q or None, page=p, page_size=PAGE_SIZE
        )
    else:
        listed = websites.list_for_user(
            page.conn,
            page.user.id,
            include_teams=False,
            search=q or None,
            page=p,
            page_size=PAGE_SIZE,
        )
    return page.render_part(
        "websites/list.html",
        "websites/_rows.html",
        listed=listed,
        q=q,
        may_create=can(page.actor, "create", ("website", team)),
    )


def _website(page, website_id: UUID):
    website = websites.get(page.conn, website_id)
    if website is None or not can(page.actor, "view", ("website", website)):
        raise PageError(404, "Website not found")
    return website


def in_context(page, website_id: UUID):
    """The website, with its team's navigation around it when the viewer belongs to that team."""
    website = _website(page, website_id)
    if website.team_id in page.actor.team_roles:
        page.use_team(website.team_id)
    return website


def tracker_script_path(settings) -> str:
    """Where the tracking code loads the tracker: the first TRACKER_SCRIPT_NAME, else script.js."""
    names = settings.tracker_script_names
    return settings.base_path + (names[0] if names else "/script.js")


@router.get("/websites/{website_id}/settings")
def website_settings(page: UserPage, website_id: UUID) -> Response:
    website = in_context(page, website_id)
    # Where this website may be transferred: asked of the policy, team by team.
    my_teams = teams.teams_of(page.conn, page.user.id)
    transfer_teams = [
        t for t in my_teams if can(page.actor, "transfer-to-team", ("website", (website, t)))
    ]
    owning_team = teams.get(page.conn, website.team_id) if website.team_id else None
    if owning_team is not None:
        hide_access_codes(page.actor, owning_team)
    return page.render(
        "websites/settings.html",
        website=website,
        owning_team=owning_team,
        script_path=tracker_script_path(page.settings),
        transfer_teams=transfer_teams,
        may_take_back=can(page.actor, "transfer-to-user", ("website", (website, page.user))),
    )


@router.get("/websites/{website_id}")
def website_overview(page: UserPage, website_id: UUID) -> Response:
    """The dashboard's shell: it paints at once, and its panels ask the JSON API for numbers."""
    website = in_context(page, website_id)
    return page.render(
        "websites/overview.html", website=website, share_slug=None, scripts=DASHBOARD_SCRIPTS
    )


@router.get("/share/{slug}")
def shared_dashboard(page: AnyPage, slug: SlugText) -> Response:
    """A website's share URL: the same dashboard, read-only, for anyone (the panels use the share
    token that GET /api/share/<slug> hands out)."""
    share = shares.get_by_slug(page.conn, slug)
    website = (
        websites.get(page.conn, share.entity_id)
        if share and share.share_type == shares.WEBSITE
        else None
    )
    if website is None:
        raise PageError(404, "This share URL does not exist")
    return page.render("share.html", website=website, share_slug=slug, scripts=DASHBOARD_SCRIPTS)


@router.get("/websites/{website_id}/realtime")
def website_realtime(page: UserPage, website_id: UUID) -> Response:
    return page.render(
        "websites/realtime.html", website=in_context(page, website_id), scripts=DASHBOARD_SCRIPTS
    )


@router.get("/websites/{website_id}/sessions")
@router.get("/websites/{website_id}/events")
def website_activity(page: UserPage, website_id: UUID) -> Response:
    kind = page.request.url.path.rsplit("/", 1)[1]
    return page.render(
        "websites/activity.html",
        website=in_context(page, website_id),
        kind=kind,
        scripts=DASHBOARD_SCRIPTS,
    )


@router.get("/websites/{website_id}/sessions/{session_id}")
def visitor_profile(page: UserPage, website_id: UUID, session_id: UUID) -> Response:
    """One visitor: their facts, their activity visit by visit and their properties (all read
    from the sessions API by the page)."""
    return page.render(
        "websites/session.html",
        website=in_context(page, website_id),
        session_id=session_id,
        scripts=DASHBOARD_SCRIPTS,
    )


@router.get("/websites/{website_id}/segments")
@router.get("/websites/{website_id}/cohorts")
def website_segments(page: UserPage, website_id: UUID) -> Response:
    website = in_context(page, website_id)
    kind = page.request.url.path.rsplit("/", 1)[1].removesuffix("s")
    listed = segments.list_for_website(
        page.conn, website.id, segment_type=kind, search=None, page=1, page_size=200
    )
    return page.render(
        "websites/segments.html",
        website=website,
        kind=kind,
        listed=listed,
        scripts=DASHBOARD_SCRIPTS,
        may_update=can(page.actor, "update", ("website", website)),
        may_delete=can(page.actor, "delete", ("website", website)),
    )
