"""Who may do what: one policy table, consulted by every endpoint (docs/permissions.md).

A rule takes the acting identity and the target and answers yes or no. Denials surface as 401,
as in Umami. Keys are (kind, action); kinds are the owned entities (website, link, pixel, board),
`team`, `user`, `report`, `admin`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from uuid import UUID

from katsuo.errors import Unauthorized
from katsuo.store.records import Page, Team, User

OWNER, MANAGER, MEMBER, VIEWER = "team-owner", "team-manager", "team-member", "team-view-only"
TEAM_ROLES = (OWNER, MANAGER, MEMBER, VIEWER)
USER_ROLES = ("admin", "user", "view-only")

ALL_MEMBERS = frozenset(TEAM_ROLES)
EDITORS = frozenset({OWNER, MANAGER, MEMBER})
MANAGERS = frozenset({OWNER, MANAGER})
OWNERS = frozenset({OWNER})


@dataclass
class Actor:
    """The identity behind a request: a user (by login token or API key) and/or a share token."""

    user: User | None = None
    team_roles: dict[UUID, str] = field(default_factory=dict)
    # What a share token opens on this request: its entity, when the route belongs to a section
    # its share publishes (api/share_scope.py), else nothing.
    shared_ids: frozenset[UUID] = frozenset()
    token: str | None = None
    auth_key: str | None = None
    share_token: str | None = None
    share_id: str | None = None  # the share behind share_token (its `shareId` claim)

    @property
    def is_admin(self) -> bool:
        return self.user is not None and self.user.is_admin

    def team_role(self, team_id: UUID | None) -> str | None:
        return self.team_roles.get(team_id) if team_id else None


class Owned(Protocol):
    id: UUID
    user_id: UUID | None
    team_id: UUID | None


Rule = Callable[[Actor, Any], bool]
T = TypeVar("T", Team, Page, list)


def _admin(actor: Actor, target: Any) -> bool:
    return actor.is_admin


def _owner(actor: Actor, entity: Owned) -> bool:
    return actor.user is not None and entity.user_id is not None and entity.user_id == actor.user.id


def _shared(actor: Actor, entity: Owned) -> bool:
    return entity.id in actor.shared_ids


def _team(roles: frozenset[str]) -> Rule:
    return lambda actor, entity: actor.team_role(entity.team_id) in roles


def _member_of(roles: frozenset[str]) -> Rule:
    """For a team itself: the actor's role in that team."""
    return lambda actor, team: actor.team_role(team.id) in roles


def _self(actor: Actor, user: User) -> bool:
    return actor.user is not None and actor.user.id == user.id


def _may_create(actor: Actor, team: Any) -> bool:
    """Creating needs a user role that creates (not view-only) and, inside a team, an editor role."""
    if actor.user is None or actor.user.role not in ("admin", "user"):
        return False
    return team is None or actor.is_admin or actor.team_role(team.id) in EDITORS


def _remove_member(actor: Actor, target: tuple) -> bool:
    """Members may leave a team; owners and managers (and admins) may remove anyone from it."""
    team, member_user_id = target
    leaving = actor.user is not None and actor.user.id == member_user_id
    return actor.is_admin or leaving or actor.team_role(team.id) in MANAGERS


def _report_rule(action: str) -> Rule:
    # A saved report belongs to its creator, and to whoever has the same right on its website.
    def rule(actor: Actor, target: tuple) -> bool:
        report, website = target
        creator = actor.user is not None and report.user_id == actor.user.id
        return (
            actor.is_admin
            or creator
            or (website is not None and can(actor, action, ("website", website)))
        )

    return rule


def _any(*rules: Rule) -> Rule:
    return lambda actor, target: any(rule(actor, target) for rule in rules)


def _owned_entity_rules(kind: str) -> dict[tuple[str, str], Rule]:
    return {
        (kind, "view"): _any(_admin, _shared, _owner, _team(ALL_MEMBERS)),
        (kind, "update"): _any(_admin, _owner, _team(EDITORS)),
        (kind, "delete"): _any(_admin, _owner, _team(EDITORS)),
        (kind, "create"): _may_create,  # target: the team to create in, or None
    }


POLICY: dict[tuple[str, str], Rule] = {
    **_owned_entity_rules("website"),
    **_owned_entity_rules("link"),
    **_owned_entity_rules("pixel"),
    **_owned_entity_rules("board"),
    # Transfers: admins get no special treatment (docs/permissions.md#transfers).
    ("website", "transfer-to-team"): lambda actor, pair: (
        _owner(actor, pair[0]) and actor.team_role(pair[1].id) in MANAGERS
    ),
    ("website", "transfer-to-user"): lambda actor, pair: (
        pair[0].team_id is not None
        and actor.user is not None
        and pair[1].id == actor.user.id
        and actor.team_role(pair[0].team_id) in OWNERS
    ),
    ("team", "create"): lambda actor, _: (
        actor.user is not None and actor.user.role in ("admin", "user")
    ),
    ("team", "create-for-other"): _admin,  # a team whose owner is someone else (`ownerId`)
    # The access code lets anyone join as a member: only those who manage members may see it.
    ("team", "see-access-code"): _any(_admin, _member_of(MANAGERS)),
    ("team", "view"): _any(_admin, _member_of(ALL_MEMBERS)),
    ("team", "update"): _any(_admin, _member_of(MANAGERS)),
    ("team", "delete"): _any(_admin, _member_of(OWNERS)),
    ("team", "manage-members"): _any(_admin, _member_of(MANAGERS)),  # add, read one, change role
    ("team", "remove-member"): _remove_member,  # target: (team, user id of the member)
    ("user", "create"): _admin,
    ("user", "view"): _any(_admin, _self),
    ("user", "update"): _any(_admin, _self),
    ("user", "delete"): _admin,  # deleting oneself is then refused as a bad request
    ("admin", "list"): _admin,
    ("report", "view"): _report_rule("view"),
    ("report", "update"): _report_rule("update"),
    ("report", "delete"): _report_rule("delete"),
}


def can(actor: Actor, action: str, target: tuple[str, Any]) -> bool:
    kind, entity = target
    return POLICY[(kind, action)](actor, entity)


def hide_access_codes(actor: Actor, teams: T) -> T:
    """A team, or a page or list of teams, with the access code set to null where the actor may
    not see it (the key stays, so the response keeps its shape)."""
    for team in (
        teams.data if isinstance(teams, Page) else teams if isinstance(teams, list) else [teams]
    ):
        if not can(actor, "see-access-code", ("team", team)):
            team.access_code = None
    return teams


def authorize(
    actor: Actor, action: str, target: tuple[str, Any], message: str | None = None
) -> None:
    if not can(actor, action, target):
        raise Unauthorized(message)
