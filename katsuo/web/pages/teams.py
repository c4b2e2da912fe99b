"""Teams: the caller's teams (create, join by access code, leave) and a team's page (name,
access code, members and their roles, websites, deletion)."""

from __future__ import annotations

from uuid import UUID

from fastapi.responses import Response

from katsuo.auth.permissions import can, hide_access_codes
from katsuo.store.repositories import teams, users, websites
from katsuo.web.templating import UserPage, page_router

router = page_router()


@router.get("/settings/teams")
def team_list(page: UserPage) -> Response:
    listed = hide_access_codes(
        page.actor, teams.list_for_user(page.conn, page.user.id, page=1, page_size=100)
    )
    return page.render(
        "settings/teams.html", listed=listed, may_create=can(page.actor, "create", ("team", None))
    )


@router.get("/settings/teams/{team_id}")
def team_detail(page: UserPage, team_id: UUID) -> Response:
    team = page.use_team(team_id)
    members = teams.members(page.conn, team.id, search=None, page=1, page_size=500)
    may_manage = can(page.actor, "manage-members", ("team", team))
    # Only administrators may list accounts, so only they get a picker to add someone directly;
    # everybody else joins with the access code.
    candidates = []
    if may_manage and can(page.actor, "list", ("admin", None)):
        member_ids = {m.user_id for m in members.data}
        everyone = users.list_all(page.conn, search=None, page=1, page_size=1000).data
        candidates = [u for u in everyone if u.id not in member_ids]
    return page.render_part(
        "settings/team.html",
        "settings/_team_members.html",
        members=members,
        team_websites=websites.list_for_team(
            page.conn, team.id, search=None, page=1, page_size=100
        ),
        may_update=can(page.actor, "update", ("team", team)),
        may_delete=can(page.actor, "delete", ("team", team)),
        may_manage=may_manage,
        may_add_website=can(page.actor, "create", ("website", team)),
        candidates=candidates,
        my_role=page.actor.team_role(team.id),
    )
