"""The instance the authorization matrix runs against: several tenants, each with entities,
collected traffic and saved definitions, and one client per kind of caller.

Every id and name a tenant owns is recorded as a `Secret` with who may see it, so a test can
search any answer for what its caller must not learn. Names carry a random suffix: each is
unique and none is a substring of another.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from tests.helpers import Api

MISSING = "00000000-0000-4000-8000-00000000f00d"
PASSWORD = "matrix-password-1"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
TEAM_ROLES = ("team-owner", "team-manager", "team-member", "team-view-only")
# Share parameter sets: nothing but the always-readable overview; a few sections; everything.
ALL_SECTIONS = (
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
SHARE_PARAMETERS = {
    "share-W-overview": ("W", {}),
    "share-W-some": ("W", {"overview": True, "events": True, "funnels": True}),
    "share-W-all": ("W", {section: True for section in ALL_SECTIONS}),
    "share-L": ("L", {"overview": True}),
    "share-TW-all": ("TW", {section: True for section in ALL_SECTIONS}),
}
USER_ACTORS = ("admin", "owner", "api-key", "other", "viewer", *TEAM_ROLES)
ACTORS = ("anonymous", *USER_ACTORS, *SHARE_PARAMETERS)


def tag(label: str) -> str:
    return f"mx-{label}-{secrets.token_hex(5)}"


@dataclass
class Secret:
    """A string that only `seen_by` (actor names) may find in an answer."""

    text: str
    what: str
    seen_by: frozenset[str]
    entities: tuple[str, ...] = ()  # fixture keys of the entities whose share tokens see it too


@dataclass
class World:
    client: object
    clients: dict[str, Api] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # fixture key -> id (or slug, code)
    kinds: dict[str, str] = field(default_factory=dict)  # id -> website/link/pixel
    entity_of: dict[str, str] = field(
        default_factory=dict
    )  # fixture key of a share/report/segment -> its entity key
    shares: dict[str, str] = field(default_factory=dict)  # share actor -> entity key it opens
    secrets: list[Secret] = field(default_factory=list)

    # ---- who sees what -------------------------------------------------------------------

    def tenant_actors(self, tenant: str) -> frozenset[str]:
        """Callers that see everything of a tenant (besides the admin)."""
        return frozenset(
            {
                "owner": {"owner", "api-key"},
                "team": set(TEAM_ROLES),
                "other": {"other"},
                "viewer": {"viewer"},
                "admin": set(),
            }[tenant]
        ) | {"admin"}

    def secret(self, text: str, what: str, seen_by) -> None:
        self.secrets.append(Secret(text, what, frozenset(seen_by)))

    def forbidden_for(self, actor: str) -> list[Secret]:
        opened = self.shares.get(actor)
        return [s for s in self.secrets if actor not in s.seen_by and opened not in s.entities]

    # ---- building ------------------------------------------------------------------------

    def build(self) -> World:
        anonymous = Api(self.client)
        admin = anonymous.admin()
        self.clients.update(anonymous=anonymous, admin=admin)
        self.ids["admin_id"] = admin.user["id"]
        self.secret(admin.user["id"], "admin's user id", self.tenant_actors("admin"))
        for actor, role, tenant in (
            ("owner", "user", "owner"),
            ("other", "user", "other"),
            ("viewer", "view-only", "viewer"),
            *((r, "user", "team") for r in TEAM_ROLES),
        ):
            name = tag(actor)
            admin.ok("POST", "/api/users", {"username": name, "password": PASSWORD, "role": role})
            self.clients[actor] = anonymous.login(name, PASSWORD)
            self.ids[f"{actor}_id"] = self.clients[actor].user["id"]
            seen = self.tenant_actors(tenant) | {actor}
            self.secret(name, f"{actor}'s username", seen)
            # An entity's details name its creator (userId, createdBy), also through a share.
            created = {
                "owner": ("W", "L", "P"),
                "team-owner": ("TW", "TL", "TP"),
                "other": ("OW", "OL", "OP"),
            }
            self.secrets.append(
                Secret(
                    self.ids[f"{actor}_id"],
                    f"{actor}'s user id",
                    frozenset(seen),
                    created.get(actor, ()),
                )
            )

        owner, other, team_owner = (
            self.clients["owner"],
            self.clients["other"],
            self.clients["team-owner"],
        )
        team = team_owner.new_team(tag("T"))
        self.ids["T"], self.ids["T_code"] = team["id"], team["accessCode"]
        # A team entity's details name its team (teamId), also through a share.
        self.secrets.append(
            Secret(team["id"], "team T's id", self.tenant_actors("team"), ("TW", "TL", "TP"))
        )
        self.secret(team["name"], "team T's name", self.tenant_actors("team"))
        self.secret(
            team["accessCode"], "team T's access code", {"admin", "team-owner", "team-manager"}
        )
        for role in TEAM_ROLES[1:]:
            team_owner.add_member(team["id"], self.clients[role], role)
        other_team = other.new_team(tag("OT"))
        self.ids["OT"], self.ids["OT_code"] = other_team["id"], other_team["accessCode"]
        self.secret(other_team["id"], "team OT's id", self.tenant_actors("other"))
        self.secret(other_team["name"], "team OT's name", self.tenant_actors("other"))
        self.secret(other_team["accessCode"], "team OT's access code", self.tenant_actors("other"))

        for prefix, creator, tenant, team_id in (
            ("", owner, "owner", None),
            ("T", team_owner, "team", team["id"]),
            ("O", other, "other", None),
        ):
            self.entities(prefix, creator, tenant, team_id)
        for actor, (key, parameters) in SHARE_PARAMETERS.items():
            share = self.share(self.clients["admin"], key, parameters, actor)
            token = anonymous.ok("GET", f"/api/share/{share['slug']}")["token"]
            self.clients[actor] = Api(self.client, share_token=token)
            self.shares[actor] = key
        key = owner.ok("POST", "/api/me/api-keys", {"name": tag("key")})
        self.clients["api-key"] = Api(self.client, token=key["key"], user=owner.user)
        self.ids["KEY"] = key["id"]
        self.secret(key["key"], "the owner's API key itself (shown once)", set())
        other_key = other.ok("POST", "/api/me/api-keys", {"name": tag("okey")})
        self.ids["OKEY"] = other_key["id"]
        self.secret(other_key["id"], "other's API key id", self.tenant_actors("other") - {"admin"})
        self.secret("$2b$", "a password hash", set())
        self.secret("$2a$", "a password hash", set())
        self.traffic_ids()
        return self

    def entities(self, prefix: str, creator: Api, tenant: str, team_id: str | None) -> None:
        """A website, link and pixel with traffic, and a report, segment, cohort and share."""
        owned = {"teamId": team_id} if team_id else {}
        seen = self.tenant_actors(tenant)
        website = creator.new_website(
            name=tag(prefix + "W"), domain=f"{tag(prefix + 'dom')}.example", **owned
        )
        link = creator.ok(
            "POST",
            "/api/links",
            {
                "name": tag(prefix + "L"),
                "url": f"https://{tag(prefix + 'to')}.example/",
                "slug": tag(prefix + "ls"),
                **owned,
            },
        )
        pixel = creator.ok(
            "POST", "/api/pixels", {"name": tag(prefix + "P"), "slug": tag(prefix + "ps"), **owned}
        )
        for key, entity, kind in (
            (prefix + "W", website, "website"),
            (prefix + "L", link, "link"),
            (prefix + "P", pixel, "pixel"),
        ):
            self.ids[key] = entity["id"]
            self.kinds[entity["id"]] = kind
            for text in (
                entity["id"],
                entity["name"],
                entity.get("domain"),
                entity.get("url"),
                entity.get("slug"),
            ):
                if text:
                    self.entity_secret(text, f"{key}'s {kind} id/name/slug", seen, key)

        ip = f"81.2.69.{ {'': 10, 'T': 20, 'O': 30}[prefix] }"
        headers = {"User-Agent": USER_AGENT, "X-Forwarded-For": ip}
        for n in range(3):
            path = f"/{tag(prefix + 'page')}"
            self.entity_secret(path, f"{prefix}W's page path", seen, prefix + "W")
            hit = {
                "website": website["id"],
                "url": path,
                "hostname": website["domain"],
                "title": tag(prefix + "title"),
                "language": "en-US",
                "screen": "1920x1080",
                "referrer": "",
            }
            self.entity_secret(hit["title"], f"{prefix}W's page title", seen, prefix + "W")
            if n == 2:
                hit.update(name=tag(prefix + "event"), data={"plan": "pro"})
                self.entity_secret(hit["name"], f"{prefix}W's event name", seen, prefix + "W")
            response = self.client.post(
                "/api/send", json={"type": "event", "payload": hit}, headers=headers
            )
            assert response.status_code == 200, response.text
        assert self.client.get(
            f"/q/{link['slug']}", headers=headers, follow_redirects=False
        ).status_code in (301, 302, 307, 308)
        assert self.client.get(f"/p/{pixel['slug']}", headers=headers).status_code == 200

        report = creator.ok(
            "POST",
            "/api/reports",
            {
                "websiteId": website["id"],
                "type": "goal",
                "name": tag(prefix + "R"),
                "parameters": {"type": "path", "value": "/"},
            },
        )
        segment = creator.ok(
            "POST",
            f"/api/websites/{website['id']}/segments",
            {"type": "segment", "name": tag(prefix + "S"), "parameters": {"filters": []}},
        )
        cohort = creator.ok(
            "POST",
            f"/api/websites/{website['id']}/segments",
            {"type": "cohort", "name": tag(prefix + "C"), "parameters": {"filters": []}},
        )
        for key, item in ((prefix + "R", report), (prefix + "S", segment), (prefix + "C", cohort)):
            self.ids[key] = item["id"]
            self.entity_of[key] = prefix + "W"
            # Saved definitions are never readable through a share token.
            self.secret(item["id"], f"{key}'s id", seen)
            self.secret(item["name"], f"{key}'s name", seen)
        for key in (prefix + "W", prefix + "L", prefix + "P"):
            self.share(creator, key, {"overview": True}, f"SH_{key}")

    def entity_secret(self, text: str, what: str, seen, entity_key: str) -> None:
        self.secrets.append(Secret(text, what, frozenset(seen), (entity_key,)))

    def share(self, creator: Api, entity_key: str, parameters: dict, key: str) -> dict:
        kind = self.kinds[self.ids[entity_key]]
        share = creator.ok(
            "POST",
            f"/api/{kind}s/{self.ids[entity_key]}/shares",
            {"name": tag(f"share-{entity_key}"), "parameters": parameters},
        )
        self.ids[key], self.ids[key + "_slug"] = share["id"], share["slug"]
        self.entity_of[key] = entity_key
        tenant_seen = self.tenant_actors(
            "team"
            if entity_key.startswith("T")
            else "other"
            if entity_key.startswith("O")
            else "owner"
        )
        # A share's id and name are management data (its list is never readable through a token);
        # its slug is public by nature, so it is not searched for.
        # Resolving the slug (public) names the share's id, so it goes with the entity.
        self.secrets.append(
            Secret(share["id"], f"share {key}'s id", frozenset(tenant_seen), (entity_key,))
        )
        self.secret(share["name"], f"share {key}'s name", tenant_seen)
        return share

    def traffic_ids(self) -> None:
        """A session and an event of each website (their ids are the website's secrets)."""
        admin = self.clients["admin"]
        now = int(time.time() * 1000)
        window = {"startAt": now - 86_400_000, "endAt": now + 3_600_000}
        for prefix in ("", "T", "O"):
            website = self.ids[prefix + "W"]
            sessions = admin.ok("GET", f"/api/websites/{website}/sessions", params=window)["data"]
            events = admin.ok("GET", f"/api/websites/{website}/events", params=window)["data"]
            assert sessions and events, f"the traffic of {prefix}W was not recorded"
            self.ids[prefix + "SESSION"], self.ids[prefix + "EVENT"] = (
                sessions[0]["id"],
                events[0]["id"],
            )
            seen = self.tenant_actors({"": "owner", "T": "team", "O": "other"}[prefix])
            self.entity_secret(sessions[0]["id"], f"a session id of {prefix}W", seen, prefix + "W")

    # ---- fresh copies for the calls that change or destroy their target ------------------

    def creator_of(self, key: str) -> Api:
        return self.clients[{"": "owner", "T": "team-owner", "O": "other"}[tenant_prefix(key)]]

    def fresh(self, key: str) -> str:
        """A new entity like the fixture `key` (same kind, same tenant), made for one call."""
        base = key.lstrip("TO") if key not in ("T", "OT") else key
        prefix = tenant_prefix(key)
        creator = self.creator_of(key)
        owned = {"teamId": self.ids["T"]} if prefix == "T" else {}
        if base == "W":
            return creator.new_website(name=tag("fresh"), **owned)["id"]
        if base == "L":
            return creator.ok(
                "POST",
                "/api/links",
                {
                    "name": tag("fresh"),
                    "url": "https://example.com/",
                    "slug": tag("fresh"),
                    **owned,
                },
            )["id"]
        if base == "P":
            return creator.ok(
                "POST", "/api/pixels", {"name": tag("fresh"), "slug": tag("fresh"), **owned}
            )["id"]
        if key == "T":
            return self.team_like_t()
        if key == "OT":
            return creator.new_team(tag("fresh"))["id"]
        website = self.ids[prefix + "W"]
        if base == "R":
            return creator.ok(
                "POST",
                "/api/reports",
                {
                    "websiteId": website,
                    "type": "goal",
                    "name": tag("fresh"),
                    "parameters": {"type": "path", "value": "/"},
                },
            )["id"]
        if base in ("S", "C"):
            return creator.ok(
                "POST",
                f"/api/websites/{website}/segments",
                {
                    "type": "segment" if base == "S" else "cohort",
                    "name": tag("fresh"),
                    "parameters": {},
                },
            )["id"]
        if key in ("KEY", "OKEY"):
            return creator.ok("POST", "/api/me/api-keys", {"name": tag("fresh")})["id"]
        if key.startswith("SH_"):
            entity = self.entity_of[key]
            kind = self.kinds[self.ids[entity]]
            return self.creator_of(entity).ok(
                "POST", f"/api/{kind}s/{self.ids[entity]}/shares", {"name": tag("fresh")}
            )["id"]
        raise KeyError(key)

    def team_like_t(self) -> str:
        """A team with the world's four team users in the same roles as in T."""
        team = self.clients["team-owner"].new_team(tag("fresh"))
        for role in TEAM_ROLES[1:]:
            self.clients["team-owner"].add_member(team["id"], self.clients[role], role)
        return team["id"]

    def new_user(self, role: str = "user") -> str:
        return self.clients["admin"].ok(
            "POST", "/api/users", {"username": tag("fresh"), "password": PASSWORD, "role": role}
        )["id"]


def tenant_prefix(key: str) -> str:
    """ "" for the owner's things, "T" for the team's, "O" for the other user's."""
    key = key.removeprefix("SH_")
    if key in ("T", "OT"):
        return "T" if key == "T" else "O"
    return key[0] if key[0] in "TO" and len(key) > 1 else ""
