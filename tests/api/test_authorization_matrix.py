"""Tenant isolation, stated as a table: every route of the OpenAPI schema and every page, called by
every kind of caller with ids of every tenant (and ids borrowed from another kind), on both engines.

The expected status of a call comes from the rules below, written from the permission table in
docs/permissions.md and not from the code: anonymous callers get 401; an id that names nothing of
the route's kind gets 404; then the caller's right on the target decides between 2xx and 401 (400
where the table refuses an authorised change). Every 2xx answer is searched for the ids, names,
page paths and access codes its caller may not see (tests/api/authz_world.py records who sees
what). One test per route; its failure lists every (actor, target) that disagreed.

Calls that change or destroy their target run on a fresh copy of it made for that one call, so
the shared world stays as built.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from katsuo.web import pages
from tests.api.authz_world import (
    ACTORS,
    MISSING,
    PASSWORD,
    SHARE_PARAMETERS,
    TEAM_ROLES,
    World,
    tag,
    tenant_prefix,
)

OK, BAD, DENIED, NOT_FOUND, TOO_MANY = 200, 400, 401, 404, 429
SHARES = frozenset(SHARE_PARAMETERS)
FEWER_ACTORS = tuple(a for a in ACTORS if a not in ("share-W-overview", "share-W-some"))
ANY_KIND = frozenset({"website", "link", "pixel"})
TEAM_MEMBERS = {"T": frozenset(TEAM_ROLES), "OT": frozenset({"other"})}
TEAM_OWNERS = {"T": "team-owner", "OT": "other"}
NOW_MS = int(time.time() * 1000)
RANGE = {
    "startAt": NOW_MS - 86_400_000,
    "endAt": NOW_MS + 3_600_000,
    "unit": "hour",
    "timezone": "UTC",
}
# Share sections (docs/permissions.md): which one publishes each analytics route.
OVERVIEW = "overview"
REPORT_SECTIONS = {
    "funnel": "funnels",
    "goal": "goals",
    "goals": "goals",
    "journey": "journeys",
    "retention": "retention",
    "utm": "utm",
    "revenue": "revenue",
    "attribution": "attribution",
    "breakdown": "breakdown",
    "performance": "performance",
}


# ---- who may do what (the policy, restated) --------------------------------------------------


def tenant_users(key: str) -> frozenset[str]:
    """The callers with an owner's rights on the fixture entity `key` (besides the admin)."""
    return {
        "": frozenset({"owner", "api-key"}),
        "T": frozenset(TEAM_ROLES),
        "O": frozenset({"other"}),
    }[tenant_prefix(key)]


def may_view(actor: str, key: str) -> bool:
    return actor == "admin" or actor in tenant_users(key)


def may_edit(actor: str, key: str) -> bool:
    return actor == "admin" or (actor in tenant_users(key) and actor != "team-view-only")


def share_opens(w: World, actor: str, key: str, section: str | None) -> bool:
    if actor not in SHARES or w.shares[actor] != key or section is None:
        return False
    parameters = SHARE_PARAMETERS[actor][1]
    return section == OVERVIEW or parameters.get(section) is True


def user_of(actor: str) -> str:
    return "owner" if actor == "api-key" else actor


@dataclass(frozen=True)
class Target:
    """Path parameters (name -> fixture key, or a literal prefixed with '='), a body, a query."""

    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    query: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        parts = [f"{k}={v}" for k, v in self.params.items()]
        parts += [f"?{k}={v}" for k, v in self.query.items() if k not in RANGE]
        if isinstance(self.body, dict):  # the body's fields that name a target or a role
            parts += [
                f"{k}={v}"
                for k, v in self.body.items()
                if k in ("websiteId", "entityId", "teamId", "userId", "ownerId", "role")
            ]
        return " ".join(parts)


Rule = Callable[[World, str, Target], int | frozenset]


@dataclass(frozen=True)
class Row:
    rule: Rule
    targets: tuple[Target, ...] = (Target(),)
    fresh: tuple[str, ...] = ()  # path parameters whose fixture is copied anew for each call
    opens: Callable[[Target], str | None] = lambda t: None  # an entity a public answer may name
    # Share tokens with each parameter set where sections matter; elsewhere the broadest tokens.
    actors: tuple[str, ...] = FEWER_ACTORS


def either(*codes: int) -> frozenset:
    return frozenset(codes)


def needs_user(rule: Rule) -> Rule:
    """Anonymous callers and share tokens alone get 401 before anything is looked up."""

    def wrapped(w: World, actor: str, t: Target):
        if actor == "anonymous" or actor in SHARES:
            return DENIED
        return rule(w, actor, t)

    return wrapped


def public(w: World, actor: str, t: Target):
    return OK


def any_user(w: World, actor: str, t: Target):
    return OK


def creators(w: World, actor: str, t: Target):
    return DENIED if actor == "viewer" else OK


def admin_only(w: World, actor: str, t: Target):
    return OK if actor == "admin" else DENIED


def entity_key(t: Target, param: str) -> str:
    return t.params.get(param) or (t.body or {}).get(param) or t.query[param]


def kind_of(w: World, key: str) -> str | None:
    return w.kinds.get(w.ids.get(key, MISSING))


def entity(param: str, action: str, kinds=ANY_KIND, section: str | None = None) -> Rule:
    """A website/link/pixel route: view (a share token of the entity may read `section`), read
    its definitions (shares, saved reports, segments: never a share token), edit."""

    def rule(w: World, actor: str, t: Target):
        key = entity_key(t, param)
        if actor == "anonymous":
            return DENIED
        if kind_of(w, key) not in kinds:
            return either(DENIED, NOT_FOUND) if actor in SHARES else NOT_FOUND
        if action == "view":
            allowed = may_view(actor, key) or share_opens(w, actor, key, section)
        elif action == "read":
            allowed = may_view(actor, key) and actor not in SHARES
        else:
            allowed = may_edit(actor, key) and actor not in SHARES
        return OK if allowed else DENIED

    return rule


def creating_in(team_param: str) -> Rule:
    """Creating inside a team: a creating user role and an editor's role in that team."""

    @needs_user
    def rule(w: World, actor: str, t: Target):
        team = t.body[team_param]
        if actor == "viewer":
            return DENIED
        return (
            OK
            if actor == "admin" or (actor in TEAM_MEMBERS[team] and actor != "team-view-only")
            else DENIED
        )

    return rule


def saved(param: str, action: str) -> Rule:
    """A saved report by id: the right on its website (never a share token)."""

    def rule(w: World, actor: str, t: Target):
        key = t.params[param]
        if actor == "anonymous" or (actor in SHARES and action != "view"):
            return DENIED
        if key not in w.entity_of or not key.lstrip("TO").startswith("R"):
            return either(DENIED, NOT_FOUND) if actor in SHARES else NOT_FOUND
        website = w.entity_of[key]
        allowed = (may_view if action == "view" else may_edit)(
            actor, website
        ) and actor not in SHARES
        return OK if allowed else DENIED

    return rule


def segment(action: str) -> Rule:
    def rule(w: World, actor: str, t: Target):
        website, item = t.params["website_id"], t.params["segment_id"]
        if actor == "anonymous" or (actor in SHARES and action != "view"):
            return DENIED
        if kind_of(w, website) is None:
            return either(DENIED, NOT_FOUND) if actor in SHARES else NOT_FOUND
        mine = w.entity_of.get(item) == website
        if not may_view(actor, website):
            return DENIED if mine or actor not in SHARES else either(DENIED, NOT_FOUND)
        if not mine:
            return NOT_FOUND
        allowed = (may_view if action == "view" else may_edit)(actor, website)
        return OK if allowed else DENIED

    return rule


def share_by_id(action: str) -> Rule:
    @needs_user
    def rule(w: World, actor: str, t: Target):
        key = t.params["share_id"]
        if not key.startswith("SH_"):
            return NOT_FOUND
        entity_of = w.entity_of[key]
        return OK if (may_view if action == "read" else may_edit)(actor, entity_of) else DENIED

    return rule


def team(action: str) -> Rule:
    @needs_user
    def rule(w: World, actor: str, t: Target):
        key = t.params["team_id"]
        if key not in TEAM_MEMBERS:
            return NOT_FOUND
        role = w_role(actor, key)
        allowed = (
            actor == "admin"
            or {
                "view": role is not None,
                "update": role in ("team-owner", "team-manager"),
                "delete": role == "team-owner",
            }[action]
        )
        return OK if allowed else DENIED

    return rule


def w_role(actor: str, team_key: str) -> str | None:
    if actor not in TEAM_MEMBERS[team_key]:
        return None
    return actor if team_key == "T" else ("team-owner" if actor == TEAM_OWNERS[team_key] else None)


def member(action: str) -> Rule:
    """One membership: read or change a role (admin, owner, manager; never the owner's own
    membership: 400), or remove it (also any member leaving; never the owner: 400)."""

    @needs_user
    def rule(w: World, actor: str, t: Target):
        team_key, user_key = t.params["team_id"], t.params["user_id"]
        if team_key not in TEAM_MEMBERS:
            return NOT_FOUND
        role = w_role(actor, team_key)
        manages = actor == "admin" or role in ("team-owner", "team-manager")
        member_actor = user_key.removesuffix("_id")
        leaving = action == "remove" and member_actor == user_of(actor)
        if not (manages or leaving):
            return DENIED
        if member_actor not in TEAM_MEMBERS[team_key]:
            return either(BAD, NOT_FOUND)  # Umami: 400 "The User does not exists on this team."
        if action in ("change", "remove") and member_actor == TEAM_OWNERS[team_key]:
            return BAD
        if action == "change" and isinstance(t.body, dict) and t.body.get("role") == "team-owner":
            return BAD
        return OK

    return rule


def add_member(w: World, actor: str, t: Target):
    if actor == "anonymous" or actor in SHARES:
        # the body names team-owner: refused by validation before anyone is asked
        return either(BAD, DENIED) if t.body["role"] == "team-owner" else DENIED
    role = w_role(actor, t.params["team_id"])
    if not (actor == "admin" or role in ("team-owner", "team-manager")):
        return either(BAD, DENIED) if t.body["role"] == "team-owner" else DENIED
    return BAD if t.body["role"] == "team-owner" else OK


def user_self_or_admin(param: str = "user_id") -> Rule:
    @needs_user
    def rule(w: World, actor: str, t: Target):
        key = t.params[param]
        if actor == "admin" or key == f"{user_of(actor)}_id":
            return OK if key.endswith("_id") else NOT_FOUND
        return DENIED if key.endswith("_id") else either(DENIED, NOT_FOUND)

    return rule


@needs_user
def delete_user(w: World, actor: str, t: Target):
    key = t.params["user_id"]
    if actor != "admin":
        return DENIED if key.endswith("_id") else either(DENIED, NOT_FOUND)
    if not key.endswith("_id"):
        return NOT_FOUND
    return BAD if key == "admin_id" else OK  # not oneself (and never the last admin)


@needs_user
def own_api_key(w: World, actor: str, t: Target):
    owner = {"KEY": "owner", "OKEY": "other"}.get(t.params["key_id"])
    return OK if owner == user_of(actor) else NOT_FOUND


@needs_user
def new_team(w: World, actor: str, t: Target):
    if actor == "viewer":
        return DENIED
    owner = (t.body or {}).get("ownerId")
    return OK if owner in (None, f"{user_of(actor)}_id") or actor == "admin" else DENIED


def transfer(w: World, actor: str, t: Target):
    """Website transfers keep Umami's rule (admins get no special treatment): into a team, by the
    website's personal owner who owns or manages that team; out of a team to oneself, by its owner."""
    if actor == "anonymous" or actor in SHARES:
        return DENIED
    key = t.params["website_id"]
    if kind_of(w, key) != "website":
        return NOT_FOUND
    if "teamId" in t.body:
        personal = (
            tenant_prefix(key) == ""
            and user_of(actor) == "owner"
            or tenant_prefix(key) == "O"
            and actor == "other"
        )
        return (
            OK
            if personal and w_role(actor, t.body["teamId"]) in ("team-owner", "team-manager")
            else DENIED
        )
    return (
        OK
        if tenant_prefix(key) == "T"
        and actor == "team-owner"
        and t.body["userId"] == "team-owner_id"
        else DENIED
    )


def foreign_item_hidden(rule: Rule, param: str) -> Rule:
    """A session or event of another website under a website one may read: found nowhere (404),
    or an answer without any of it (the leak search checks that)."""

    def wrapped(w: World, actor: str, t: Target):
        expected = rule(w, actor, t)
        same = tenant_prefix(t.params[param]) == tenant_prefix(t.params["website_id"])
        return expected if same or expected != OK else either(OK, NOT_FOUND)

    return wrapped


def wrong_password(w: World, actor: str, t: Target):
    return DENIED if actor == "anonymous" or actor in SHARES else BAD


def share_resolution(w: World, actor: str, t: Target):
    return OK if t.params["slug"].startswith("SH_") else NOT_FOUND


# ---- the table: every route of the API ---------------------------------------------------------


def T(**params: str) -> Target:
    return Target(params=params)


def B(body: Any = None, query: dict | None = None, **params: str) -> Target:
    return Target(params=params, body=body, query=query or {})


ENTITY_IDS = ("W", "L", "P", "TW", "TL", "OW", "OL", "MISSING")
ANALYTICS_IDS = ("W", "L", "TW", "OW", "MISSING")  # fewer for the costlier queries
WEBSITE_IDS = ("W", "L", "TW", "OW", "MISSING")
LINK_IDS = ("L", "W", "TL", "OL", "MISSING")
PIXEL_IDS = ("P", "L", "TP", "OP", "MISSING")


def on(param: str, keys: tuple[str, ...], body=None, query=None) -> tuple[Target, ...]:
    return tuple(B(body, query, **{param: key}) for key in keys)


ANALYTICS = {  # path tail -> (share section, extra query)
    "active": (OVERVIEW, {}),
    "stats": (OVERVIEW, {}),
    "pageviews": (OVERVIEW, {}),
    "metrics": (OVERVIEW, {"type": "path"}),
    "metrics/expanded": (OVERVIEW, {"type": "path"}),
    "daterange": (OVERVIEW, {}),
    "values": (OVERVIEW, {"type": "path"}),
    "export": (OVERVIEW, {}),  # a zip of the overview's metric lists
    "events": ("events", {}),
    "events/series": ("events", {}),
    "events/stats": ("events", {}),
    "event-data": ("events", {}),
    "event-data/events": ("events", {}),
    "event-data/fields": ("events", {}),
    "event-data/properties": ("events", {}),
    "event-data/values": ("events", {"event": "e", "propertyName": "plan"}),
    "event-data/stats": ("events", {}),
    "sessions": ("sessions", {}),
    "sessions/stats": ("sessions", {}),
    "sessions/weekly": ("sessions", {}),
    "session-data/properties": ("sessions", {}),
    "session-data/values": ("sessions", {"propertyName": "plan"}),
}
REPORT_PARAMETERS = {
    "funnel": {
        "window": 60,
        "steps": [{"type": "path", "value": "/"}, {"type": "path", "value": "/b"}],
    },
    "goal": {"type": "path", "value": "/"},
    "goals": {"type": "path", "value": "/"},
    "journey": {"steps": 3},
    "retention": {},
    "revenue": {"currency": "USD"},
    "utm": {},
    "attribution": {"model": "first-click", "type": "path", "step": "/"},
    "breakdown": {"fields": ["os"]},
    "performance": {"metric": "lcp"},
}
REPORT = {"type": "goal", "name": "matrix report", "parameters": {"type": "path", "value": "/"}}


def report_run_body(report_type: str):
    return {
        "type": report_type.removesuffix("s"),
        "filters": {},
        "parameters": {
            "startDate": RANGE["startAt"],
            "endDate": RANGE["endAt"],
            **REPORT_PARAMETERS[report_type],
        },
    }


def build_table() -> dict[str, Row]:
    table: dict[str, Row] = {
        "GET /api/heartbeat": Row(public),
        "GET /api/config": Row(public),
        "POST /api/auth/login": Row(
            lambda w, a, t: either(DENIED, TOO_MANY),
            (B({"username": "=fresh", "password": "wrong-password"}),),
        ),
        "POST /api/auth/verify": Row(needs_user(any_user)),
        "GET /api/me": Row(needs_user(any_user)),
        "GET /api/me/websites": Row(needs_user(any_user)),
        "GET /api/me/teams": Row(needs_user(any_user)),
        "GET /api/me/api-keys": Row(needs_user(any_user)),
        "POST /api/me/api-keys": Row(needs_user(any_user), (B({"name": "matrix key"}),)),
        "DELETE /api/me/api-keys/{key_id}": Row(
            own_api_key, (T(key_id="KEY"), T(key_id="OKEY"), T(key_id="MISSING")), fresh=("key_id",)
        ),
        "POST /api/me/password": Row(
            wrong_password, (B({"currentPassword": "not-the-password", "newPassword": "x" * 12}),)
        ),
        "POST /api/users": Row(
            needs_user(admin_only),
            (B({"username": "=fresh", "password": PASSWORD, "role": "user"}),),
        ),
        "GET /api/users/{user_id}": Row(
            user_self_or_admin(),
            on("user_id", ("owner_id", "other_id", "team-member_id", "admin_id", "W", "MISSING")),
        ),
        "POST /api/users/{user_id}": Row(
            user_self_or_admin(), on("user_id", ("owner_id", "other_id", "W", "MISSING"), body={})
        ),
        "DELETE /api/users/{user_id}": Row(
            delete_user, on("user_id", ("owner_id", "admin_id", "W", "MISSING")), fresh=("user_id",)
        ),
        "GET /api/users/{user_id}/websites": Row(
            user_self_or_admin(), on("user_id", ("owner_id", "other_id", "MISSING"))
        ),
        "GET /api/users/{user_id}/teams": Row(
            user_self_or_admin(), on("user_id", ("owner_id", "team-member_id", "MISSING"))
        ),
        "GET /api/admin/users": Row(needs_user(admin_only)),
        "GET /api/admin/websites": Row(needs_user(admin_only)),
        "GET /api/admin/teams": Row(needs_user(admin_only)),
        # websites
        "GET /api/websites": Row(needs_user(any_user)),
        "POST /api/websites": Row(
            needs_user(creators), (B({"name": "matrix site", "domain": "example.com"}),)
        ),
        "GET /api/websites/{website_id}": Row(
            entity("website_id", "view", {"website"}, OVERVIEW),
            on("website_id", WEBSITE_IDS),
            actors=ACTORS,
        ),
        "POST /api/websites/{website_id}": Row(
            entity("website_id", "edit", {"website"}),
            on("website_id", WEBSITE_IDS, body={"name": "renamed"}),
            fresh=("website_id",),
        ),
        "DELETE /api/websites/{website_id}": Row(
            entity("website_id", "edit", {"website"}),
            on("website_id", WEBSITE_IDS),
            fresh=("website_id",),
        ),
        "POST /api/websites/{website_id}/reset": Row(
            entity("website_id", "edit", {"website"}),
            on("website_id", WEBSITE_IDS),
            fresh=("website_id",),
        ),
        "POST /api/websites/{website_id}/transfer": Row(
            transfer,
            (
                B({"teamId": "T"}, website_id="W"),
                B({"teamId": "OT"}, website_id="OW"),
                B({"teamId": "OT"}, website_id="W"),
                B({"userId": "team-owner_id"}, website_id="TW"),
                B({"teamId": "T"}, website_id="L"),
                B({"teamId": "T"}, website_id="MISSING"),
            ),
            fresh=("website_id",),
        ),
        # teams
        "GET /api/teams": Row(needs_user(any_user)),
        "POST /api/teams": Row(
            new_team,
            (B({"name": "matrix team"}), B({"name": "matrix team", "ownerId": "other_id"})),
        ),
        "POST /api/teams/join": Row(needs_user(any_user), (B({"accessCode": "=fresh-code"}),)),
        "GET /api/teams/{team_id}": Row(team("view"), on("team_id", ("T", "OT", "W", "MISSING"))),
        "POST /api/teams/{team_id}": Row(
            team("update"),
            on("team_id", ("T", "OT", "W", "MISSING"), body={"name": "renamed"}),
            fresh=("team_id",),
        ),
        "DELETE /api/teams/{team_id}": Row(
            team("delete"), on("team_id", ("T", "OT", "W", "MISSING")), fresh=("team_id",)
        ),
        "GET /api/teams/{team_id}/users": Row(team("view"), on("team_id", ("T", "OT", "MISSING"))),
        "POST /api/teams/{team_id}/users": Row(
            add_member,
            (
                B({"userId": "=new-user", "role": "team-member"}, team_id="T"),
                B({"userId": "=new-user", "role": "team-owner"}, team_id="T"),
                B({"userId": "=new-user", "role": "team-member"}, team_id="OT"),
            ),
        ),
        "GET /api/teams/{team_id}/users/{user_id}": Row(
            member("read"),
            (
                T(team_id="T", user_id="team-member_id"),
                T(team_id="T", user_id="other_id"),
                T(team_id="OT", user_id="other_id"),
                T(team_id="MISSING", user_id="owner_id"),
            ),
        ),
        "POST /api/teams/{team_id}/users/{user_id}": Row(
            member("change"),
            (
                B({"role": "team-view-only"}, team_id="T", user_id="team-member_id"),
                B({"role": "team-member"}, team_id="T", user_id="team-owner_id"),
                B({"role": "team-member"}, team_id="OT", user_id="other_id"),
                B({"role": "team-member"}, team_id="T", user_id="other_id"),
            ),
            fresh=("team_id",),
        ),
        "DELETE /api/teams/{team_id}/users/{user_id}": Row(
            member("remove"),
            (
                T(team_id="T", user_id="team-member_id"),
                T(team_id="T", user_id="team-view-only_id"),
                T(team_id="T", user_id="team-owner_id"),
                T(team_id="OT", user_id="other_id"),
                T(team_id="T", user_id="other_id"),
            ),
            fresh=("team_id",),
        ),
        # links and pixels
        "GET /api/links": Row(needs_user(any_user)),
        "GET /api/pixels": Row(needs_user(any_user)),
        "POST /api/links": Row(
            needs_user(creators),
            (B({"name": "l", "url": "https://example.com/", "slug": "=slug"}),),
        ),
        "POST /api/pixels": Row(needs_user(creators), (B({"name": "p", "slug": "=slug"}),)),
        # saved reports
        "GET /api/reports": Row(
            entity("websiteId", "read"),
            tuple(Target(query={"websiteId": k}) for k in ANALYTICS_IDS),
        ),
        "GET /api/websites/{website_id}/reports": Row(
            entity("website_id", "read"), on("website_id", ENTITY_IDS)
        ),
        "POST /api/reports": Row(
            entity("websiteId", "edit"), tuple(B({**REPORT, "websiteId": k}) for k in ENTITY_IDS)
        ),
        "GET /api/reports/{report_id}": Row(
            saved("report_id", "view"), on("report_id", ("R", "TR", "OR", "W", "MISSING"))
        ),
        "POST /api/reports/{report_id}": Row(
            saved("report_id", "edit"),
            tuple(
                B({**REPORT, "websiteId": w}, report_id=r)
                for r, w in (("R", "W"), ("TR", "TW"), ("OR", "OW"), ("MISSING", "W"))
            ),
            fresh=("report_id",),
        ),
        "DELETE /api/reports/{report_id}": Row(
            saved("report_id", "edit"),
            on("report_id", ("R", "TR", "OR", "W", "MISSING")),
            fresh=("report_id",),
        ),
        "POST /api/reports/{report_id}/run": Row(
            saved("report_id", "view"),
            on(
                "report_id",
                ("R", "TR", "OR", "MISSING"),
                body={"parameters": {"startDate": RANGE["startAt"], "endDate": RANGE["endAt"]}},
            ),
        ),
        # segments and cohorts
        "GET /api/websites/{website_id}/segments": Row(
            entity("website_id", "read"), on("website_id", ENTITY_IDS, query={"type": "segment"})
        ),
        "POST /api/websites/{website_id}/segments": Row(
            entity("website_id", "edit"),
            on(
                "website_id",
                ENTITY_IDS,
                body={"type": "cohort", "name": "matrix cohort", "parameters": {}},
            ),
        ),
        "GET /api/websites/{website_id}/segments/{segment_id}": Row(segment("view"), SEGMENT_PAIRS),
        "POST /api/websites/{website_id}/segments/{segment_id}": Row(
            segment("edit"),
            tuple(
                B({"type": "segment", "name": "renamed", "parameters": {}}, **t.params)
                for t in SEGMENT_PAIRS
            ),
            fresh=("segment_id",),
        ),
        "DELETE /api/websites/{website_id}/segments/{segment_id}": Row(
            segment("edit"), SEGMENT_PAIRS, fresh=("segment_id",)
        ),
        # shares
        "GET /api/share/{slug}": Row(
            share_resolution,
            on("slug", ("SH_W_slug", "SH_OW_slug", "SH_TL_slug", "MISSING")),
            opens=lambda t: t.params["slug"].removeprefix("SH_").removesuffix("_slug"),
        ),
        "POST /api/share": Row(
            entity("entityId", "edit"),
            tuple(
                B({"entityId": k, "shareType": 1, "name": "matrix share", "parameters": {}})
                for k in WEBSITE_IDS
                if k != "L"
            ),
        ),
        "GET /api/share/id/{share_id}": Row(share_by_id("read"), on("share_id", SHARE_IDS)),
        "POST /api/share/id/{share_id}": Row(
            share_by_id("edit"),
            on("share_id", SHARE_IDS, body={"name": "renamed", "slug": "=slug", "parameters": {}}),
            fresh=("share_id",),
        ),
        "DELETE /api/share/id/{share_id}": Row(
            share_by_id("edit"), on("share_id", SHARE_IDS), fresh=("share_id",)
        ),
        "GET /api/realtime/{website_id}": Row(
            entity("website_id", "view", section="realtime"),
            on("website_id", ANALYTICS_IDS),
            actors=ACTORS,
        ),
    }
    for kind, ids in (("link", LINK_IDS), ("pixel", PIXEL_IDS)):
        own = {kind}
        table |= {
            f"GET /api/{kind}s/{{entity_id}}": Row(
                entity("entity_id", "view", own, OVERVIEW), on("entity_id", ids)
            ),
            f"POST /api/{kind}s/{{entity_id}}": Row(
                entity("entity_id", "edit", own),
                on("entity_id", ids, body={"name": "x"}),
                fresh=("entity_id",),
            ),
            f"DELETE /api/{kind}s/{{entity_id}}": Row(
                entity("entity_id", "edit", own), on("entity_id", ids), fresh=("entity_id",)
            ),
        }
    for kind, ids, kinds in (
        ("website", ENTITY_IDS, ANY_KIND),
        ("link", LINK_IDS, {"link"}),
        ("pixel", PIXEL_IDS, {"pixel"}),
    ):
        table[f"GET /api/{kind}s/{{entity_id}}/shares"] = Row(
            entity("entity_id", "read", kinds), on("entity_id", ids)
        )
        table[f"POST /api/{kind}s/{{entity_id}}/shares"] = Row(
            entity("entity_id", "edit", kinds), on("entity_id", ids, body={"name": "matrix share"})
        )
    for team_list in ("websites", "links", "pixels"):
        table[f"GET /api/teams/{{team_id}}/{team_list}"] = Row(
            team("view"), on("team_id", ("T", "OT", "W", "MISSING"))
        )
    for tail, (section, query) in ANALYTICS.items():
        table[f"GET /api/websites/{{website_id}}/{tail}"] = Row(
            entity("website_id", "view", section=section),
            on("website_id", ANALYTICS_IDS, query={**RANGE, **query}),
            actors=ACTORS,
        )
    for tail, param, section in (
        ("sessions/{session_id}", "session_id", "sessions"),
        ("sessions/{session_id}/activity", "session_id", "sessions"),
        ("sessions/{session_id}/properties", "session_id", "sessions"),
        ("event-data/{event_id}", "event_id", "events"),
    ):
        item = "SESSION" if param == "session_id" else "EVENT"
        table[f"GET /api/websites/{{website_id}}/{tail}"] = Row(
            foreign_item_hidden(entity("website_id", "view", section=section), param),
            tuple(
                B(None, RANGE, website_id=w, **{param: p + item})
                for w, p in (("W", ""), ("TW", "T"), ("OW", "O"))
            )
            # a session or event of another tenant under one's own website: nothing of it may show
            + (B(None, RANGE, website_id="W", **{param: "O" + item}),),
            actors=ACTORS,
        )
    for report_type in REPORT_PARAMETERS:
        table[f"POST /api/reports/{report_type}"] = Row(
            entity("websiteId", "view", section=REPORT_SECTIONS[report_type]),
            tuple(B({**report_run_body(report_type), "websiteId": k}) for k in ANALYTICS_IDS),
            actors=ACTORS,
        )
    return table


SEGMENT_PAIRS = (
    T(website_id="W", segment_id="S"),
    T(website_id="W", segment_id="C"),
    T(website_id="TW", segment_id="TS"),
    T(website_id="OW", segment_id="OS"),
    T(website_id="W", segment_id="OS"),
    T(website_id="W", segment_id="MISSING"),
)
SHARE_IDS = ("SH_W", "SH_L", "SH_TW", "SH_OW", "W", "MISSING")
TABLE = build_table()


# ---- the pages: the same rules, with a page's own answers (login redirect, 404 page) -----------

LOGIN = 303  # a page that needs a user sends everyone else to the login page


def page(rule: Rule) -> Rule:
    """Pages need a logged-in user; one may not see answers 404, as if it did not exist."""

    def wrapped(w: World, actor: str, t: Target):
        if actor == "anonymous" or actor in SHARES:
            return LOGIN
        return {OK: OK, DENIED: NOT_FOUND}.get(rule(w, actor, t), rule(w, actor, t))

    return wrapped


def page_report(w: World, actor: str, t: Target):
    website, report = t.params["website_id"], t.params["report_id"]
    if not may_view(actor, website):
        return DENIED
    return OK if w.entity_of.get(report) == website else NOT_FOUND


def admin_page(w: World, actor: str, t: Target):
    return OK if actor == "admin" else 403


def console_page(w: World, actor: str, t: Target):
    return NOT_FOUND if actor == "admin" else 403  # ENABLE_TEST_CONSOLE is off


PAGE_WEBSITE_IDS = ("W", "L", "TW", "OW", "MISSING")


def build_page_table() -> dict[str, Row]:
    website_view = page(entity("website_id", "view", {"website"}))
    table = {
        "GET /": Row(lambda w, a, t: LOGIN),
        "GET /login": Row(lambda w, a, t: either(OK, LOGIN)),
        "GET /api/docs": Row(
            lambda w, a, t: OK
        ),  # the API's description, public as in any FastAPI app
        "GET /favicon.ico": Row(lambda w, a, t: OK),  # the site's icon, the same for everyone
        "GET /share/{slug}": Row(
            lambda w, a, t: OK if t.params["slug"] in ("SH_W_slug", "SH_OW_slug") else NOT_FOUND,
            on("slug", ("SH_W_slug", "SH_OW_slug", "SH_L_slug", "MISSING")),
            opens=lambda t: t.params["slug"].removeprefix("SH_").removesuffix("_slug"),
        ),
        "GET /settings/users": Row(page(admin_page)),
        "GET /console": Row(page(console_page)),
        "GET /console/{website_id}": Row(page(console_page), on("website_id", ("W", "OW"))),
        "GET /websites/{website_id}/reports/{report_id}": Row(
            page(page_report),
            (
                T(website_id="W", report_id="R"),
                T(website_id="TW", report_id="TR"),
                T(website_id="OW", report_id="OR"),
                T(website_id="W", report_id="OR"),
            ),
        ),
        "GET /websites/{website_id}/reports/new/{report_type}": Row(
            website_view, tuple(T(website_id=k, report_type="funnel") for k in PAGE_WEBSITE_IDS)
        ),
        "GET /websites/{website_id}/sessions/{session_id}": Row(
            website_view,
            (
                T(website_id="W", session_id="SESSION"),
                T(website_id="TW", session_id="TSESSION"),
                T(website_id="OW", session_id="OSESSION"),
            ),
        ),
    }
    table["GET /settings"] = Row(lambda w, a, t: LOGIN)  # to the profile page, or to the login
    for path in (
        "/settings/profile",
        "/settings/api-keys",
        "/settings/teams",
        "/websites",
        "/links",
        "/pixels",
    ):
        table[f"GET {path}"] = Row(page(any_user))
    for tail in (
        "",
        "/settings",
        "/realtime",
        "/sessions",
        "/events",
        "/segments",
        "/cohorts",
        "/reports",
    ):
        table[f"GET /websites/{{website_id}}{tail}"] = Row(
            website_view, on("website_id", PAGE_WEBSITE_IDS)
        )
    for kind, ids in (("link", LINK_IDS), ("pixel", PIXEL_IDS)):
        table[f"GET /{kind}s/{{entity_id}}"] = Row(
            page(entity("entity_id", "view", {kind})), on("entity_id", ids)
        )
    for path in (
        "/settings/teams/{team_id}",
        "/teams/{team_id}/websites",
        "/teams/{team_id}/links",
        "/teams/{team_id}/pixels",
    ):
        table[f"GET {path}"] = Row(page(team("view")), on("team_id", ("T", "OT", "W", "MISSING")))
    return table


PAGE_TABLE = build_page_table()


# ---- running a call ---------------------------------------------------------------------------


def resolve(w: World, value: Any, fresh: bool = False) -> Any:
    """Fixture keys to ids, '=…' literals to values made for this call."""
    if isinstance(value, dict):
        return {k: resolve(w, v) for k, v in value.items()}
    if not isinstance(value, str):
        return value
    if value == "=fresh":
        return tag("fresh")
    if value == "=slug":
        return tag("slug")
    if value == "=new-user":
        return w.new_user()
    if value == "=fresh-code":
        host = w.new_user()
        return w.clients["admin"].ok("POST", "/api/teams", {"name": tag("join"), "ownerId": host})[
            0
        ]["accessCode"]
    if value == "MISSING":
        return MISSING
    if fresh:
        return w.fresh(value)
    return w.ids.get(value, value)


def fresh_user_id(w: World, key: str) -> str:
    """DELETE /api/users: a new user stands in for a user of the same tenant (not for the admin)."""
    return w.new_user() if key.endswith("_id") and key != "admin_id" else resolve(w, key)


def path_params(w: World, route: str, row: Row, target: Target, copies: bool) -> dict[str, str]:
    """The ids for the path; with `copies`, fresh copies of the targets the row changes."""
    params = {}
    for name, key in target.params.items():
        copy = copies and name in row.fresh and key != "MISSING" and key in w.ids
        if copy and name == "user_id" and route.startswith("DELETE /api/users/"):
            params[name] = fresh_user_id(w, key)
        else:
            params[name] = resolve(w, key, fresh=copy)
    return params


def call(w: World, route: str, actor: str, target: Target, params: dict[str, str]):
    method, template = route.split(" ", 1)
    path = template.format(**params)
    query = {k: (resolve(w, v) if isinstance(v, str) else v) for k, v in target.query.items()}
    body = resolve(w, target.body)
    if method == "POST" and body is None:
        body = {}
    api = w.clients[actor]
    return api.client.request(
        method,
        path,
        json=body if method == "POST" else None,
        params=query,
        headers=api.headers,
        follow_redirects=False,
    )


def expected_codes(expected) -> frozenset:
    return expected if isinstance(expected, frozenset) else frozenset({expected})


def status_class(code: int) -> int:
    return OK if 200 <= code < 300 else code


def leaks(w: World, actor: str, text: str, known: str, opens: str | None) -> list[str]:
    """What of the secrets the actor may not see appears in `text` (not counting what the caller
    sent itself, in `known`, and what a public answer about the entity `opens` names)."""
    found = []
    for secret in w.forbidden_for(actor):
        if opens and opens in secret.entities:
            continue
        if secret.text in text and secret.text not in known:
            found.append(secret.what)
    return found


def check_route(
    w: World, route: str, mutating: bool, table: dict[str, Row] | None = None
) -> list[str]:
    row = (table or TABLE)[route]
    problems = []
    for target in row.targets:
        # Callers that must be refused share one copy of a target a row changes; each caller that
        # may change it gets a copy of its own.
        refused = path_params(w, route, row, target, copies=mutating)
        for actor in row.actors:
            expected = expected_codes(row.rule(w, actor, target))
            may_change = mutating and bool(expected - {DENIED, NOT_FOUND})
            params = path_params(w, route, row, target, copies=True) if may_change else refused
            response = call(w, route, actor, target, params)
            got = status_class(response.status_code)
            where = f"{actor:>16} {route} [{target.label}]"
            if got not in expected:
                problems.append(
                    f"{where}: expected {'/'.join(map(str, sorted(expected)))}, got "
                    f"{response.status_code} {response.text[:160]}"
                )
            elif got == OK:
                known = str(response.request.url) + (response.request.content or b"").decode()
                leaked = leaks(w, actor, response.text, known, row.opens(target))
                if leaked:
                    problems.append(f"{where}: 2xx answer shows {', '.join(sorted(set(leaked)))}")
            if got in (DENIED, NOT_FOUND, BAD) and response.headers.get(
                "content-type", ""
            ).startswith("application/json"):
                error = response.json().get("error", {})
                if error.get("status") != response.status_code:
                    problems.append(
                        f"{where}: {response.status_code} without Umami's error shape: {response.text[:160]}"
                    )
    return problems


# ---- the tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(module_client) -> World:
    return World(module_client).build()


def schema_routes(client) -> list[str]:
    schema = client.get("/api/openapi.json").json()
    return [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
    ]


MUTATING = frozenset(route for route, row in TABLE.items() if row.fresh)
# Calls that end the caller's own login are checked on logins made for them (see below).
SEPARATE = frozenset({"POST /api/auth/logout"})


def test_every_route_of_the_schema_has_a_row(module_client):
    missing = [r for r in schema_routes(module_client) if r not in TABLE and r not in SEPARATE]
    stale = [r for r in TABLE if r not in schema_routes(module_client)]
    assert not missing and not stale, (
        f"routes without a row: {missing}; rows without a route: {stale}"
    )


def page_routes() -> list[str]:
    return [
        f"{method} {route.path}"
        for router in pages.ROUTERS
        for route in router.routes
        for method in sorted(route.methods - {"HEAD"})
    ]


# The login cookie's own endpoints (they take a login token, not an identity, and change no data).
PAGE_SEPARATE = frozenset({"POST /session", "DELETE /session"})


def test_every_page_has_a_row():
    missing = [r for r in page_routes() if r not in PAGE_TABLE and r not in PAGE_SEPARATE]
    assert not missing and set(PAGE_TABLE) <= set(page_routes()), f"pages without a row: {missing}"


@pytest.mark.parametrize("route", sorted(PAGE_TABLE))
def test_page(world, route):
    problems = check_route(world, route, mutating=False, table=PAGE_TABLE)
    assert not problems, (
        f"{len(problems)} disagreement(s) with the permission table:\n" + "\n".join(problems)
    )


def test_the_world_has_traffic_to_hide(world):
    """The leak search means something only if each tenant's data is there to be found."""
    for prefix in ("", "T", "O"):
        stats = world.clients["admin"].ok(
            "GET", f"/api/websites/{world.ids[prefix + 'W']}/stats", params=RANGE
        )
        assert stats["pageviews"] >= 2, (prefix, stats)
    paths = (
        world.clients["admin"]
        .get(f"/api/websites/{world.ids['OW']}/metrics", params={**RANGE, "type": "path"})
        .text
    )
    assert any(s.text in paths for s in world.forbidden_for("owner")), (
        "the other tenant's page paths are searchable"
    )


@pytest.mark.parametrize("route", sorted(set(TABLE) - MUTATING))
def test_reading_route(world, route):
    problems = check_route(world, route, mutating=False)
    assert not problems, (
        f"{len(problems)} disagreement(s) with the permission table:\n" + "\n".join(problems)
    )


@pytest.mark.parametrize("route", sorted(MUTATING))
def test_changing_route(world, route):
    problems = check_route(world, route, mutating=True)
    assert not problems, (
        f"{len(problems)} disagreement(s) with the permission table:\n" + "\n".join(problems)
    )


# ---- the rules that need a sequence of calls ---------------------------------------------------


def new_share_token(w: World, parameters: dict) -> tuple[dict, str]:
    """A new share of the owner's website, and a token resolved from its slug."""
    share = w.clients["owner"].ok(
        "POST",
        f"/api/websites/{w.ids['W']}/shares",
        {"name": tag("follow"), "parameters": parameters},
    )
    return share, w.clients["anonymous"].ok("GET", f"/api/share/{share['slug']}")["token"]


def with_token(w: World, token: str):
    return type(w.clients["anonymous"])(w.client, share_token=token)


def test_changed_share_parameters_apply_at_once(world):
    share, token = new_share_token(world, {})
    events = f"/api/websites/{world.ids['W']}/events"
    assert with_token(world, token).get(events, params=RANGE).status_code == DENIED, (
        "events are not published"
    )
    world.clients["owner"].ok(
        "POST",
        f"/api/share/id/{share['id']}",
        {"name": share["name"], "slug": share["slug"], "parameters": {"events": True}},
    )
    assert with_token(world, token).get(events, params=RANGE).status_code == OK, (
        "the share now publishes events"
    )


def test_a_deleted_share_ends_its_tokens(world):
    share, token = new_share_token(world, {})
    stats = f"/api/websites/{world.ids['W']}/stats"
    assert with_token(world, token).get(stats, params=RANGE).status_code == OK
    world.clients["owner"].ok("DELETE", f"/api/share/id/{share['id']}")
    assert with_token(world, token).get(stats, params=RANGE).status_code == DENIED


def test_share_tokens_expire_after_a_day(world):
    import jwt

    _, token = new_share_token(world, {})
    claims = jwt.decode(token, options={"verify_signature": False})
    past = int(time.time()) - 25 * 3600
    expired = jwt.encode(
        {**claims, "iat": past, "exp": past + 24 * 3600},
        world.client.app.state.services.settings.secret,
        algorithm="HS256",
    )
    stats = f"/api/websites/{world.ids['W']}/stats"
    assert with_token(world, expired).get(stats, params=RANGE).status_code == DENIED, (
        "an expired token is refused"
    )
    assert claims.get("exp") == claims["iat"] + 24 * 3600, (
        f"tokens handed out expire 24 h after issue: {claims}"
    )


def test_own_password_needs_the_current_one(world):
    """Through POST /api/users/:id one's own password needs the current one (admins and API keys
    included); another user's password is the admin's to set."""
    admin, anonymous = world.clients["admin"], world.clients["anonymous"]
    new = "a-new-password-9"
    for role in ("user", "view-only", "admin"):
        username = tag("password")
        user_id = admin.ok(
            "POST", "/api/users", {"username": username, "password": PASSWORD, "role": role}
        )["id"]
        me = anonymous.login(username, PASSWORD)
        key = me.ok("POST", "/api/me/api-keys", {"name": "k"})["key"]
        for caller in (me, type(me)(me.client, token=key)):
            response = caller.post(f"/api/users/{user_id}", {"password": new})
            assert (
                response.status_code == BAD and "Current password is incorrect" in response.text
            ), (role, response.status_code, response.text)
            response = caller.post(
                f"/api/users/{user_id}", {"password": new, "currentPassword": "wrong-one-1"}
            )
            assert response.status_code == BAD, (role, response.status_code, response.text)
        assert me.get("/api/me").status_code == OK, "nothing changed, the login still works"
    other = world.new_user()
    admin.ok(
        "POST", f"/api/users/{other}", {"password": new}
    )  # another user's password: the admin may
    assert (
        anonymous.post(
            "/api/auth/login",
            {"username": admin.ok("GET", f"/api/users/{other}")["username"], "password": new},
        ).status_code
        == OK
    )


def test_roles_change_only_by_admins_and_never_their_own(world):
    admin, anonymous = world.clients["admin"], world.clients["anonymous"]
    for role in ("user", "view-only", "admin"):
        username = tag("role")
        user_id = admin.ok(
            "POST", "/api/users", {"username": username, "password": PASSWORD, "role": role}
        )["id"]
        me = anonymous.login(username, PASSWORD)
        if role != "admin":
            me.ok("POST", f"/api/users/{user_id}", {"role": "admin"})  # ignored, as in Umami
            assert admin.ok("GET", f"/api/users/{user_id}")["role"] == role
        else:
            assert me.post(f"/api/users/{user_id}", {"role": "user"}).status_code == BAD, (
                "an admin keeps their own role"
            )
            assert admin.ok("GET", f"/api/users/{user_id}")["role"] == "admin"
