"""What a share token reads, on both engines: exactly the sections its share's `parameters`
publish (the overview always, any other section when its key is `true`), of its own entity only,
never anything else and never a change; and only while the share and its entity exist, its
token has not expired, and with the share's parameters as they are now."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from katsuo.app import create_app
from katsuo.config import Settings
from katsuo.services import Services
from tests.conftest import make_env
from tests.helpers import Api

NONE = "00000000-0000-4000-8000-000000000000"  # an event or session id that names nothing
RANGE = {"startAt": "1700000000000", "endAt": "1700086400000", "unit": "day", "timezone": "UTC"}
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


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # {E}: the entity's id
    section: str | None  # None: never open to a share token
    params: dict = field(default_factory=dict)
    body: dict | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}" + (
            f" type={self.params['type']}" if "type" in self.params else ""
        )


def _website(path: str, section: str, **params) -> Route:
    return Route("GET", "/api/websites/{E}" + path, section, {**RANGE, **params})


_REPORTS = {  # report type: (section, parameters)
    "funnel": (
        "funnels",
        {"window": 60, "steps": [{"type": "path", "value": "/"}, {"type": "path", "value": "/b"}]},
    ),
    "goal": ("goals", {"type": "path", "value": "/"}),
    "journey": ("journeys", {"steps": 3}),
    "retention": ("retention", {}),
    "revenue": ("revenue", {"currency": "USD"}),
    "utm": ("utm", {}),
    "attribution": ("attribution", {"model": "first-click", "type": "path", "step": "/"}),
    "breakdown": ("breakdown", {"fields": ["os"]}),
    "performance": ("performance", {"metric": "lcp"}),
}


def _report(path_type: str, report_type: str) -> Route:
    section, parameters = _REPORTS[report_type]
    body = {
        "websiteId": "{E}",
        "type": report_type,
        "filters": {},
        "parameters": {"startDate": 1700000000000, "endDate": 1700086400000, **parameters},
    }
    return Route("POST", f"/api/reports/{path_type}", section, body=body)


ANALYTICS = [
    _website("", "overview"),
    *(
        _website(p, "overview")
        for p in ("/active", "/stats", "/pageviews", "/daterange", "/export")
    ),
    *(_website(p, "overview", type="path") for p in ("/metrics", "/metrics/expanded", "/values")),
    *(
        _website(p, "events")
        for p in (
            "/events",
            "/events/series",
            "/events/stats",
            "/event-data",
            "/event-data/events",
            "/event-data/fields",
            "/event-data/properties",
            "/event-data/stats",
            f"/event-data/{NONE}",
        )
    ),
    _website("/event-data/values", "events", event="e", propertyName="p"),
    *(
        _website(p, "sessions")
        for p in (
            "/sessions",
            "/sessions/stats",
            "/sessions/weekly",
            f"/sessions/{NONE}",
            f"/sessions/{NONE}/activity",
            f"/sessions/{NONE}/properties",
            "/session-data/properties",
        )
    ),
    _website("/session-data/values", "sessions", propertyName="p"),
    Route("GET", "/api/realtime/{E}", "realtime"),
    *(_report(t, t) for t in _REPORTS),
    _report("goals", "goal"),
]
# Reads a share token never gets, whatever its share publishes.
NEVER = [
    Route("GET", "/api/websites/{E}/reports", None),
    Route("GET", "/api/reports", None, {"websiteId": "{E}"}),
    Route("GET", "/api/reports/{R}", None),
    Route(
        "POST",
        "/api/reports/{R}/run",
        None,
        body={"parameters": {"startDate": 1700000000000, "endDate": 1700086400000}},
    ),
    Route("GET", "/api/websites/{E}/segments", None, {"type": "segment"}),
    Route("GET", "/api/websites/{E}/segments", None, {"type": "cohort"}),
    Route("GET", "/api/websites/{E}/segments/{S}", None),
    Route("GET", "/api/websites/{E}/segments/{C}", None),
    Route("GET", "/api/websites/{E}/shares", None),
    Route("GET", "/api/share/id/{SH}", None),
    Route("GET", "/api/websites", None),
    Route("GET", "/api/me", None),
    Route("GET", "/api/me/websites", None),
    Route("GET", "/api/me/teams", None),
    Route("GET", "/api/teams", None),
    Route("GET", "/api/users/{owner}", None),
    Route("GET", "/api/users/{owner}/websites", None),
    Route("GET", "/api/links", None),
    Route("GET", "/api/pixels", None),
]
ROUTES = ANALYTICS + NEVER

PARAMETER_SETS: dict[str, dict[str, Any]] = {
    "empty": {},
    "legacy": {"overview": True, "events": True},
    "sessions-realtime": {"sessions": True, "realtime": True},
    "behaviour": {"goals": True, "funnels": True, "journeys": True, "retention": True},
    "growth-without-overview": {
        "overview": False,
        "utm": True,
        "revenue": True,
        "attribution": True,
        "breakdown": True,
        "performance": True,
        "compare": True,
    },
    "not-exactly-true": {
        "events": "true",
        "sessions": 1,
        "realtime": None,
        "funnels": {"on": True},
        "goals": [True],
    },
    "everything": dict.fromkeys(SECTIONS, True),
}


def published(parameters: dict[str, Any]) -> set[str]:
    """The sections a share publishes, as the permission table states it."""
    return {"overview"} | {key for key, value in parameters.items() if value is True}


def share_headers(token: str) -> dict[str, str]:
    return {"x-umami-share-token": token, "x-umami-share-context": "1"}


class World:
    """An owner with two websites (E and another), a link, a saved report, a segment, a cohort."""

    def __init__(self, client):
        self.anonymous = Api(client)
        self.owner = self.anonymous.new_user()
        self.ids = {"owner": self.owner.user["id"]}
        self.ids["E"] = self.owner.new_website(name="Shared")["id"]
        self.ids["other"] = self.owner.new_website(name="Other")["id"]
        self.ids["R"] = self.owner.ok(
            "POST",
            "/api/reports",
            {
                "websiteId": self.ids["E"],
                "type": "goal",
                "name": "Goal",
                "parameters": {"type": "path", "value": "/"},
            },
        )["id"]
        for key, kind in (("S", "segment"), ("C", "cohort")):
            self.ids[key] = self.owner.ok(
                "POST",
                f"/api/websites/{self.ids['E']}/segments",
                {"type": kind, "name": kind, "parameters": {}},
            )["id"]
        self.ids["SH"] = self.share(self.ids["E"], {})["id"]

    def share(self, entity_id: str, parameters: dict, kind: str = "website") -> dict:
        return self.owner.ok(
            "POST", f"/api/{kind}s/{entity_id}/shares", {"name": "Share", "parameters": parameters}
        )

    def token(self, share: dict) -> str:
        return self.anonymous.ok("GET", f"/api/share/{share['slug']}")["token"]

    def call(self, route: Route, headers: dict | None, entity: str = "E"):
        ids = {**self.ids, "E": self.ids[entity]}
        fill = lambda value: value.format(**ids) if isinstance(value, str) else value
        body = {k: fill(v) for k, v in route.body.items()} if route.body is not None else None
        client = self.owner if headers is None else self.anonymous
        return client.request(
            route.method,
            fill(route.path),
            json=body,
            params={k: fill(v) for k, v in route.params.items()},
            headers=headers,
        )

    def outcomes(self, token: str, routes=ROUTES, entity: str = "E") -> dict[str, int]:
        return {
            route.id: self.call(route, share_headers(token), entity).status_code for route in routes
        }

    def set_parameters(self, share: dict, parameters: dict) -> None:
        self.owner.ok(
            "POST",
            f"/api/share/id/{share['id']}",
            {"name": "S", "slug": share["slug"], "parameters": parameters},
        )


def expected(parameters: dict, routes=ROUTES) -> dict[str, int]:
    sections = published(parameters)
    return {route.id: 200 if route.section in sections else 401 for route in routes}


@pytest.fixture(scope="module")
def world(module_client) -> World:
    return World(module_client)


def test_the_owner_reads_every_route(world):
    """The control: each request below is well formed, so a share token's 401 is a refusal."""
    outcomes = {route.id: world.call(route, None).status_code for route in ROUTES}
    assert outcomes == dict.fromkeys(outcomes, 200)


@pytest.mark.parametrize("name", PARAMETER_SETS)
def test_a_share_token_reads_what_its_share_publishes(world, name):
    parameters = PARAMETER_SETS[name]
    token = world.token(world.share(world.ids["E"], parameters))
    assert world.outcomes(token) == expected(parameters)


def test_refusals_keep_umamis_error_shape(world):
    token = world.token(world.share(world.ids["E"], {}))
    response = world.call(_website("/sessions", "sessions"), share_headers(token))
    assert response.status_code == 401
    assert response.json() == {
        "error": {"message": "Unauthorized", "code": "unauthorized", "status": 401}
    }


def test_a_token_of_one_entity_never_reads_another(world):
    token = world.token(world.share(world.ids["E"], dict.fromkeys(SECTIONS, True)))
    assert world.outcomes(token, ANALYTICS, entity="other") == {
        key: 401 for key in expected({}, ANALYTICS)
    }


@pytest.mark.parametrize("kind", ["link", "pixel"])
def test_link_and_pixel_share_tokens_read_their_published_sections(world, kind):
    body = {
        "name": "N",
        "slug": f"share-{kind}-{world.ids['E'][:8]}",
        **({"url": "https://x.example"} if kind == "link" else {}),
    }
    entity = world.owner.ok("POST", f"/api/{kind}s", body)
    share = world.share(entity["id"], {}, kind=kind)
    headers = share_headers(world.token(share))
    status = lambda path: world.anonymous.get(path, params=RANGE, headers=headers).status_code
    assert status(f"/api/{kind}s/{entity['id']}") == 200
    assert status(f"/api/websites/{entity['id']}/stats") == 200
    assert status(f"/api/websites/{entity['id']}/events") == 401
    assert status(f"/api/{kind}s/{entity['id']}/shares") == 401
    assert status(f"/api/websites/{world.ids['E']}") == 401
    world.set_parameters(share, {"events": True})
    assert status(f"/api/websites/{entity['id']}/events") == 200


def test_changed_parameters_apply_to_issued_tokens_at_once(world):
    share = world.share(world.ids["E"], {"overview": True})
    token = world.token(share)
    events = _website("/events", "events")
    assert world.call(events, share_headers(token)).status_code == 401
    for parameters, status in (
        ({"events": True}, 200),
        ({"events": False}, 401),
        ({"sessions": True}, 401),
    ):
        world.set_parameters(share, parameters)
        assert world.call(events, share_headers(token)).status_code == status
    assert world.outcomes(token) == expected({"sessions": True})


def test_a_deleted_share_kills_its_tokens_at_once(world):
    share = world.share(world.ids["E"], dict.fromkeys(SECTIONS, True))
    token = world.token(share)
    stats = _website("/stats", "overview")
    assert world.call(stats, share_headers(token)).status_code == 200
    world.owner.ok("DELETE", f"/api/share/id/{share['id']}")
    assert world.outcomes(token, ANALYTICS) == {key: 401 for key in expected({}, ANALYTICS)}


def test_a_deleted_entity_kills_its_share_tokens_at_once(world):
    website = world.owner.new_website(name="Doomed")
    share = world.share(website["id"], {"events": True})
    headers = share_headers(world.token(share))
    status = lambda path: world.anonymous.get(path, params=RANGE, headers=headers).status_code
    assert status(f"/api/websites/{website['id']}/events") == 200
    world.owner.ok("DELETE", f"/api/websites/{website['id']}")
    assert [
        status(f"/api/websites/{website['id']}{path}") for path in ("", "/stats", "/events")
    ] == [401] * 3
    assert world.anonymous.get(f"/api/share/{share['slug']}").status_code == 404


def test_share_tokens_expire(world, module_client):
    """Tokens signed with the app's secret: one from the slug, one past its `exp`, one without."""
    secret = module_client.app.state.services.settings.secret
    share = world.share(world.ids["E"], {})
    resolved = world.anonymous.ok("GET", f"/api/share/{share['slug']}")
    claims = jwt.decode(resolved["token"], secret, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 24 * 3600
    stats = _website("/stats", "overview")
    assert world.call(stats, share_headers(resolved["token"])).status_code == 200
    now = int(time.time())
    expired = jwt.encode(
        {**claims, "iat": now - 90_000, "exp": now - 10}, secret, algorithm="HS256"
    )
    no_expiry = jwt.encode(
        {k: v for k, v in claims.items() if k != "exp"}, secret, algorithm="HS256"
    )
    still_valid = jwt.encode(
        {**claims, "iat": now - 3600, "exp": now + 60}, secret, algorithm="HS256"
    )
    assert world.call(stats, share_headers(expired)).status_code == 401
    assert world.call(stats, share_headers(no_expiry)).status_code == 401
    assert world.call(stats, share_headers(still_valid)).status_code == 200


def _changes(module_client) -> list[tuple[str, str]]:
    """Every POST, PUT and DELETE route of the API but logging in and collecting, and the report
    runners (reads, covered above)."""
    public = {"/api/auth/login", "/api/send", "/api/batch", "/api/record"}
    runners = {f"/api/reports/{t}" for t in (*_REPORTS, "goals")}
    schema = module_client.get("/api/openapi.json").json()
    return [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("post", "put", "patch", "delete") and path not in public | runners
    ]


def test_share_tokens_never_change_anything(world, module_client):
    token = world.token(world.share(world.ids["E"], dict.fromkeys(SECTIONS, True)))
    ids = {
        **world.ids,
        "website_id": world.ids["E"],
        "entity_id": world.ids["E"],
        "report_id": world.ids["R"],
        "segment_id": world.ids["S"],
        "share_id": world.ids["SH"],
        "user_id": world.ids["owner"],
        "team_id": NONE,
        "key_id": NONE,
    }
    bodies = {
        "POST": {"name": "Hacked", "websiteId": world.ids["E"], "type": "goal", "parameters": {}},
        "DELETE": None,
    }
    changes = _changes(module_client)
    assert len(changes) > 30
    outcomes = {
        f"{method} {path}": world.anonymous.request(
            method,
            path.replace(":uuid", "").format(**ids),
            json=bodies.get(method),
            headers=share_headers(token),
        ).status_code
        for method, path in changes
    }
    assert outcomes == dict.fromkeys(outcomes, 401)
    assert world.owner.ok("GET", f"/api/websites/{world.ids['E']}")["name"] == "Shared"
    assert world.owner.ok("GET", f"/api/share/id/{world.ids['SH']}")["name"] == "Share"


def test_every_read_of_an_entity_has_a_row(module_client):
    """A new analytics or entity route must come with its section (or None) above."""

    def pattern(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "{}", path.replace(NONE, "{}"))

    covered = {(route.method, pattern(route.path)) for route in ROUTES}
    schema = module_client.get("/api/openapi.json").json()
    reads = {
        ("GET", pattern(path))
        for path, operations in schema["paths"].items()
        if "get" in operations and re.match(r"/api/(websites|realtime)/\{", path)
    }
    reads |= {("POST", f"/api/reports/{t}") for t in (*_REPORTS, "goals")}
    assert reads - covered == set()


def test_sections_hold_under_a_base_path(engine, request, tmp_path_factory):
    settings = Settings.from_env(
        make_env(engine, request, tmp_path_factory, BASE_PATH="/analytics")
    )
    services = Services.start(settings)
    try:
        with TestClient(
            create_app(settings, services), base_url="http://testserver/analytics"
        ) as client:
            admin = Api(client).admin()
            website = admin.new_website()
            share = admin.ok(
                "POST",
                f"/api/websites/{website['id']}/shares",
                {"name": "S", "parameters": {"events": True}},
            )
            headers = share_headers(Api(client).ok("GET", f"/api/share/{share['slug']}")["token"])
            status = lambda path: client.get(path, params=RANGE, headers=headers).status_code
            assert [
                status(f"/api/websites/{website['id']}{path}")
                for path in ("/stats", "/events", "/sessions")
            ] == [200, 200, 401]
    finally:
        services.close()
