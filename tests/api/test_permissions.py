"""Who may call what: every management endpoint against every kind of caller, on both engines.

The callers: an admin; the user who owns the personal website, link, pixel, report, segment and
share; another user; a view-only user; the four roles of the team that owns the team entities;
a share token of the personal website publishing every section (sent with x-umami-share-context;
tests/api/test_share_tokens.py covers the sections one by one); nobody. Each case lists
who is allowed (200); everyone else must get Umami's 401. Cases that destroy their target get a
fresh one for each caller.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.helpers import Api

ROLES = (
    "admin",
    "owner",
    "another",
    "view-only",
    "team-owner",
    "team-manager",
    "team-member",
    "team-view-only",
    "share",
    "anonymous",
)
EVERYONE = frozenset(ROLES)
USERS = EVERYONE - {"share", "anonymous"}
CREATORS = USERS - {"view-only"}
ADMIN = frozenset({"admin"})
OWN = frozenset({"admin", "owner"})
OWN_OR_SHARE = OWN | {"share"}
TEAM_VIEW = frozenset({"admin", "team-owner", "team-manager", "team-member", "team-view-only"})
TEAM_EDIT = TEAM_VIEW - {"team-view-only"}
TEAM_MANAGE = TEAM_EDIT - {"team-member"}
TEAM_DELETE = frozenset({"admin", "team-owner"})
SECTIONS = (
    "overview",
    "events",
    "sessions",
    "realtime",
    "performance",
    "compare",
    "breakdown",
    "goals",
    "funnels",
    "journeys",
    "retention",
    "utm",
    "revenue",
    "attribution",
)

_unique = itertools.count(1)


class World:
    """The users, team and entities every case refers to, built once per engine."""

    def __init__(self, client):
        anonymous = Api(client)
        self.admin = anonymous.admin()
        self.clients: dict[str, Api] = {"admin": self.admin, "anonymous": anonymous}
        for role, user_role in (
            ("owner", "user"),
            ("another", "user"),
            ("view-only", "view-only"),
            ("team-owner", "user"),
            ("team-manager", "user"),
            ("team-member", "user"),
            ("team-view-only", "user"),
        ):
            self.clients[role] = anonymous.new_user(role=user_role)
        owner, team_owner = self.clients["owner"], self.clients["team-owner"]

        # `none`: an event or session id that exists nowhere (analytics answers it with nothing)
        self.ids: dict[str, str] = {
            "owner_id": owner.user["id"],
            "none": "00000000-0000-4000-8000-000000000000",
        }
        team = team_owner.new_team("Permission team")
        self.ids["T"] = team["id"]
        for role in ("team-manager", "team-member", "team-view-only"):
            team_owner.add_member(team["id"], self.clients[role], role)
        self.ids["member_id"] = self.clients["team-member"].user["id"]

        for prefix, creator, team_id in (("", owner, None), ("T", team_owner, team["id"])):
            owned = {"teamId": team_id} if team_id else {}
            self.ids[prefix + "W"] = creator.new_website(name=f"{prefix}W", **owned)["id"]
            self.ids[prefix + "L"] = self.new_link(creator, team_id)["id"]
            self.ids[prefix + "P"] = self.new_pixel(creator, team_id)["id"]
            self.ids[prefix + "R"] = self.new_report(creator, self.ids[prefix + "W"])["id"]
            self.ids[prefix + "S"] = self.new_segment(creator, self.ids[prefix + "W"])["id"]
            share = self.new_share(creator, self.ids[prefix + "W"])
            self.ids[prefix + "SH"], self.ids[prefix + "SH_slug"] = share["id"], share["slug"]

        everything = {"name": "Everything", "parameters": dict.fromkeys(SECTIONS, True)}
        published = owner.ok("POST", f"/api/websites/{self.ids['W']}/shares", everything)
        resolved = anonymous.ok("GET", f"/api/share/{published['slug']}")
        self.clients["share"] = Api(client, share_token=resolved["token"])

    @staticmethod
    def slug() -> str:
        return f"slug-{next(_unique):06d}"

    def new_link(self, creator: Api, team_id: str | None = None) -> dict:
        body = {"name": "Link", "url": "https://example.com", "slug": self.slug()}
        return creator.ok(
            "POST", "/api/links", {**body, **({"teamId": team_id} if team_id else {})}
        )

    def new_pixel(self, creator: Api, team_id: str | None = None) -> dict:
        body = {"name": "Pixel", "slug": self.slug()}
        return creator.ok(
            "POST", "/api/pixels", {**body, **({"teamId": team_id} if team_id else {})}
        )

    @staticmethod
    def new_report(creator: Api, website_id: str) -> dict:
        body = {
            "websiteId": website_id,
            "type": "goal",
            "name": "Goal",
            "parameters": {"type": "path", "value": "/"},
        }
        return creator.ok("POST", "/api/reports", body)

    @staticmethod
    def new_segment(creator: Api, website_id: str) -> dict:
        body = {"type": "segment", "name": "Segment", "parameters": {}}
        return creator.ok("POST", f"/api/websites/{website_id}/segments", body)

    @staticmethod
    def new_share(creator: Api, website_id: str) -> dict:
        return creator.ok("POST", f"/api/websites/{website_id}/shares", {"name": "Share"})

    def new_team_like_t(self) -> dict:
        """A team with the same four members in the same roles as the world's team."""
        team = self.clients["team-owner"].new_team("Doomed")
        for role in ("team-manager", "team-member", "team-view-only"):
            self.admin.add_member(team["id"], self.clients[role], role)
        return team

    def new_user(self) -> dict:
        return self.admin.ok(
            "POST",
            "/api/users",
            {"username": f"fresh-{next(_unique)}", "password": "password123", "role": "user"},
        )


Fresh = Callable[[World], dict[str, str]]


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    allowed: frozenset
    body: dict | Callable[[World], dict] | None = None
    fresh: Fresh | None = None  # made anew for each caller: extra ids for the path and body
    params: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}" + (
            f" {sorted(self.params.items())}" if self.params else ""
        )


def _fresh_website(w: World) -> dict:
    return {"X": w.clients["owner"].new_website(name="Fresh")["id"]}


def _fresh_team_website(w: World) -> dict:
    return {"X": w.clients["team-owner"].new_website(name="Fresh", teamId=w.ids["T"])["id"]}


def _name(prefix: str) -> Callable[[World], dict]:
    return lambda w: {"name": f"{prefix} {next(_unique)}"}


REPORT = {"type": "goal", "name": "Goal", "parameters": {"type": "path", "value": "/"}}

CASES = [
    # me and auth
    Case("GET", "/api/me", USERS),
    Case("POST", "/api/auth/verify", USERS),
    Case("GET", "/api/me/websites", USERS),
    Case("GET", "/api/me/teams", USERS),
    Case("GET", "/api/me/api-keys", USERS),
    Case("POST", "/api/me/api-keys", USERS, body={"name": "key"}),
    # users and admin
    Case(
        "POST",
        "/api/users",
        ADMIN,
        body=lambda w: {
            "username": f"new-{next(_unique)}",
            "password": "password123",
            "role": "user",
        },
    ),
    Case("GET", "/api/users/{owner_id}", OWN),
    Case("POST", "/api/users/{owner_id}", OWN, body={}),
    Case("DELETE", "/api/users/{X}", ADMIN, fresh=lambda w: {"X": w.new_user()["id"]}),
    Case("GET", "/api/users/{owner_id}/websites", OWN),
    Case("GET", "/api/users/{owner_id}/teams", OWN),
    Case("GET", "/api/admin/users", ADMIN),
    Case("GET", "/api/admin/websites", ADMIN),
    Case("GET", "/api/admin/teams", ADMIN),
    # websites
    Case("GET", "/api/websites", USERS),
    Case("POST", "/api/websites", CREATORS, body=_name("Website")),
    Case(
        "POST", "/api/websites", TEAM_EDIT, body=lambda w: {"name": "In team", "teamId": w.ids["T"]}
    ),
    Case("GET", "/api/websites/{W}", OWN_OR_SHARE),
    Case("GET", "/api/websites/{TW}", TEAM_VIEW),
    Case("POST", "/api/websites/{W}", OWN, body={"name": "W"}),
    Case("POST", "/api/websites/{TW}", TEAM_EDIT, body={"name": "TW"}),
    Case("POST", "/api/websites/{W}/reset", OWN),
    Case("POST", "/api/websites/{TW}/reset", TEAM_EDIT),
    Case("DELETE", "/api/websites/{X}", OWN, fresh=_fresh_website),
    Case("DELETE", "/api/websites/{X}", TEAM_EDIT, fresh=_fresh_team_website),
    # teams
    Case("GET", "/api/teams", USERS),
    Case("POST", "/api/teams", CREATORS, body=_name("Team")),
    Case(
        "POST",
        "/api/teams/join",
        USERS,
        fresh=lambda w: {
            "code": w.admin.new_team("Open", ownerId=w.new_user()["id"])["accessCode"]
        },
        body=lambda w: {"accessCode": w.fresh["code"]},
    ),
    Case("GET", "/api/teams/{T}", TEAM_VIEW),
    Case("POST", "/api/teams/{T}", TEAM_MANAGE, body={"name": "Permission team"}),
    Case("DELETE", "/api/teams/{X}", TEAM_DELETE, fresh=lambda w: {"X": w.new_team_like_t()["id"]}),
    Case("GET", "/api/teams/{T}/users", TEAM_VIEW),
    Case(
        "POST",
        "/api/teams/{T}/users",
        TEAM_MANAGE,
        fresh=lambda w: {"U": w.new_user()["id"]},
        body=lambda w: {"userId": w.fresh["U"], "role": "team-member"},
    ),
    Case("GET", "/api/teams/{T}/users/{member_id}", TEAM_MANAGE),
    Case("POST", "/api/teams/{T}/users/{member_id}", TEAM_MANAGE, body={"role": "team-member"}),
    Case(
        "DELETE",
        "/api/teams/{T}/users/{U}",
        TEAM_MANAGE,
        fresh=lambda w: {
            "U": w.admin.add_member(
                w.ids["T"], Api(w.admin.client, user=w.new_user()), "team-member"
            )["userId"]
        },
    ),
    Case("GET", "/api/teams/{T}/websites", TEAM_VIEW),
    Case("GET", "/api/teams/{T}/links", TEAM_VIEW),
    Case("GET", "/api/teams/{T}/pixels", TEAM_VIEW),
    # reports
    Case("GET", "/api/reports", OWN, params={"websiteId": "{W}"}),  # never through a share token
    Case("GET", "/api/reports", TEAM_VIEW, params={"websiteId": "{TW}"}),
    Case("GET", "/api/websites/{W}/reports", OWN),
    Case("GET", "/api/websites/{TW}/reports", TEAM_VIEW),
    Case("POST", "/api/reports", OWN, body=lambda w: {**REPORT, "websiteId": w.ids["W"]}),
    Case("POST", "/api/reports", TEAM_EDIT, body=lambda w: {**REPORT, "websiteId": w.ids["TW"]}),
    Case("GET", "/api/reports/{R}", OWN),
    Case("GET", "/api/reports/{TR}", TEAM_VIEW),
    Case("POST", "/api/reports/{R}", OWN, body=lambda w: {**REPORT, "websiteId": w.ids["W"]}),
    Case(
        "POST", "/api/reports/{TR}", TEAM_EDIT, body=lambda w: {**REPORT, "websiteId": w.ids["TW"]}
    ),
    Case(
        "DELETE",
        "/api/reports/{X}",
        OWN,
        fresh=lambda w: {"X": w.new_report(w.clients["owner"], w.ids["W"])["id"]},
    ),
    Case(
        "DELETE",
        "/api/reports/{X}",
        TEAM_EDIT,
        fresh=lambda w: {"X": w.new_report(w.admin, w.ids["TW"])["id"]},
    ),
    # segments and cohorts
    Case("GET", "/api/websites/{W}/segments", OWN, params={"type": "segment"}),
    Case("GET", "/api/websites/{TW}/segments", TEAM_VIEW, params={"type": "cohort"}),
    Case(
        "POST",
        "/api/websites/{W}/segments",
        OWN,
        body={"type": "cohort", "name": "c", "parameters": {}},
    ),
    Case(
        "POST",
        "/api/websites/{TW}/segments",
        TEAM_EDIT,
        body={"type": "segment", "name": "s", "parameters": {}},
    ),
    Case("GET", "/api/websites/{W}/segments/{S}", OWN),
    Case("GET", "/api/websites/{TW}/segments/{TS}", TEAM_VIEW),
    Case(
        "POST",
        "/api/websites/{W}/segments/{S}",
        OWN,
        body={"type": "segment", "name": "S", "parameters": {}},
    ),
    Case(
        "POST",
        "/api/websites/{TW}/segments/{TS}",
        TEAM_EDIT,
        body={"type": "segment", "name": "S", "parameters": {}},
    ),
    Case(
        "DELETE",
        "/api/websites/{W}/segments/{X}",
        OWN,
        fresh=lambda w: {"X": w.new_segment(w.clients["owner"], w.ids["W"])["id"]},
    ),
    Case(
        "DELETE",
        "/api/websites/{TW}/segments/{X}",
        TEAM_EDIT,
        fresh=lambda w: {"X": w.new_segment(w.admin, w.ids["TW"])["id"]},
    ),
    # shares
    Case("GET", "/api/share/{SH_slug}", EVERYONE),
    Case(
        "POST",
        "/api/share",
        OWN,
        body=lambda w: {"entityId": w.ids["W"], "shareType": 1, "name": "s", "parameters": {}},
    ),
    Case(
        "POST",
        "/api/share",
        TEAM_EDIT,
        body=lambda w: {"entityId": w.ids["TW"], "shareType": 1, "name": "s", "parameters": {}},
    ),
    Case("GET", "/api/share/id/{SH}", OWN),  # needs a user: a share token alone is not enough
    Case("GET", "/api/share/id/{TSH}", TEAM_VIEW),
    Case(
        "POST",
        "/api/share/id/{SH}",
        OWN,
        body=lambda w: {"name": "Share", "slug": w.ids["SH_slug"], "parameters": {}},
    ),
    Case(
        "POST",
        "/api/share/id/{TSH}",
        TEAM_EDIT,
        body=lambda w: {"name": "Share", "slug": w.ids["TSH_slug"], "parameters": {}},
    ),
    Case(
        "DELETE",
        "/api/share/id/{X}",
        OWN,
        fresh=lambda w: {"X": w.new_share(w.clients["owner"], w.ids["W"])["id"]},
    ),
    Case(
        "DELETE",
        "/api/share/id/{X}",
        TEAM_EDIT,
        fresh=lambda w: {"X": w.new_share(w.admin, w.ids["TW"])["id"]},
    ),
    Case("GET", "/api/websites/{W}/shares", OWN),
    Case("GET", "/api/websites/{TW}/shares", TEAM_VIEW),
    Case("POST", "/api/websites/{W}/shares", OWN, body={"name": "s"}),
    Case("POST", "/api/websites/{TW}/shares", TEAM_EDIT, body={"name": "s"}),
]

# Analytics and report runners: viewing a website's numbers needs view rights on it (share
# tokens included); the queries run on an empty range, the permission is what is checked here.
_RANGE = {"startAt": "1700000000000", "endAt": "1700086400000", "unit": "day", "timezone": "UTC"}
_ANALYTICS = [
    ("active", {}),
    ("stats", {}),
    ("pageviews", {}),
    ("metrics", {"type": "path"}),
    ("metrics/expanded", {"type": "path"}),
    ("daterange", {}),
    ("values", {"type": "path"}),
    ("export", {}),
    ("events", {}),
    ("events/series", {}),
    ("events/stats", {}),
    ("event-data", {}),
    ("event-data/events", {}),
    ("event-data/fields", {}),
    ("event-data/properties", {}),
    ("event-data/values", {"event": "e", "propertyName": "p"}),
    ("event-data/stats", {}),
    ("event-data/{none}", {}),
    ("sessions", {}),
    ("sessions/stats", {}),
    ("sessions/weekly", {}),
    ("sessions/{none}", {}),
    ("sessions/{none}/activity", {}),
    ("sessions/{none}/properties", {}),
    ("session-data/properties", {}),
    ("session-data/values", {"propertyName": "p"}),
]
_REPORT_PARAMETERS = {
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


def _report_body(report_type: str, website: str) -> Callable[[World], dict]:
    return lambda w: {
        "websiteId": w.ids[website],
        "type": report_type.removesuffix("s"),
        "filters": {},
        "parameters": {
            "startDate": 1700000000000,
            "endDate": 1700086400000,
            **_REPORT_PARAMETERS[report_type],
        },
    }


for _website, _allowed in (("W", OWN_OR_SHARE), ("TW", TEAM_VIEW)):
    CASES += [
        Case("GET", f"/api/websites/{{{_website}}}/{p}", _allowed, params={**_RANGE, **extra})
        for p, extra in _ANALYTICS
    ]
    CASES.append(Case("GET", f"/api/realtime/{{{_website}}}", _allowed))
    CASES += [
        Case("POST", f"/api/reports/{t}", _allowed, body=_report_body(t, _website))
        for t in _REPORT_PARAMETERS
    ]
    # running a saved report reads its definition: never through a share token
    CASES.append(
        Case(
            "POST",
            f"/api/reports/{{{'R' if _website == 'W' else 'TR'}}}/run",
            _allowed - {"share"},
            body={"parameters": {"startDate": 1700000000000, "endDate": 1700086400000}},
        )
    )

for kind, key in (("links", "L"), ("pixels", "P")):
    maker = "new_link" if kind == "links" else "new_pixel"
    creation = {"name": "n", "url": "https://example.com"} if kind == "links" else {"name": "n"}
    CASES += [
        Case("GET", f"/api/{kind}", USERS),
        Case("POST", f"/api/{kind}", CREATORS, body=lambda w, c=creation: {**c, "slug": w.slug()}),
        Case(
            "POST",
            f"/api/{kind}",
            TEAM_EDIT,
            body=lambda w, c=creation: {**c, "slug": w.slug(), "teamId": w.ids["T"]},
        ),
        Case("GET", f"/api/{kind}/{{{key}}}", OWN),  # the website's share token does not cover it
        Case("GET", f"/api/{kind}/{{T{key}}}", TEAM_VIEW),
        Case("POST", f"/api/{kind}/{{{key}}}", OWN, body={"name": "n"}),
        Case("POST", f"/api/{kind}/{{T{key}}}", TEAM_EDIT, body={"name": "n"}),
        Case(
            "DELETE",
            f"/api/{kind}/{{X}}",
            OWN,
            fresh=lambda w, m=maker: {"X": getattr(w, m)(w.clients["owner"])["id"]},
        ),
        Case(
            "DELETE",
            f"/api/{kind}/{{X}}",
            TEAM_EDIT,
            fresh=lambda w, m=maker: {
                "X": getattr(w, m)(w.clients["team-owner"], w.ids["T"])["id"]
            },
        ),
        Case("GET", f"/api/{kind}/{{{key}}}/shares", OWN),
        Case("GET", f"/api/{kind}/{{T{key}}}/shares", TEAM_VIEW),
        Case("POST", f"/api/{kind}/{{{key}}}/shares", OWN, body={"name": "s"}),
        Case("POST", f"/api/{kind}/{{T{key}}}/shares", TEAM_EDIT, body={"name": "s"}),
    ]


@pytest.fixture(scope="module")
def world(module_client) -> World:
    return World(module_client)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_who_may_call(world, case):
    outcomes, expected = {}, {}
    for role in ROLES:
        world.fresh = case.fresh(world) if case.fresh else {}
        ids = {**world.ids, **world.fresh}
        body: Any = case.body(world) if callable(case.body) else case.body
        params = {k: v.format(**ids) for k, v in case.params.items()}
        response = world.clients[role].request(
            case.method,
            case.path.format(**ids),
            json=body if case.method == "POST" else None,
            params=params,
        )
        outcomes[role] = response.status_code
        expected[role] = 200 if role in case.allowed else 401
        if response.status_code == 401:
            assert response.json()["error"]["status"] == 401
    assert outcomes == expected


def test_every_management_route_is_in_the_table(module_client):
    """A new route must come with its row above (report runners and collection are not ours)."""
    covered = {(c.method, _pattern(c.path)) for c in CASES}
    schema = module_client.get("/api/openapi.json").json()
    missing = []
    for path, operations in schema["paths"].items():
        for method in operations:
            route = (method.upper(), _pattern(path))
            if route not in covered and path not in (
                "/api/heartbeat",
                "/api/config",
                "/api/auth/login",
                "/api/auth/logout",
                "/api/me/password",
                "/api/me/api-keys/{key_id}",
                "/api/websites/{website_id}/transfer",
            ):
                missing.append(route)
    assert missing == []


def _pattern(path: str) -> str:
    import re

    return re.sub(r"\{[^}]+\}", "{}", path)
