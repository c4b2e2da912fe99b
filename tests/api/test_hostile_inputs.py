"""Nothing a client sends yields a 500: every management route gets hostile ids, bodies, field
values and query parameters (a fixed table, then generated JSON bodies), on both engines."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import Api

# Each value stands for a way a body has broken a server: text no engine stores, sizes past the
# columns, numbers past 64 bits, wrong types, nesting.
HOSTILE_VALUES = [
    "",
    "a\x00b",
    "\ud800",
    "x" * 20_000,
    "' OR '1'='1' --",
    None,
    True,
    -1,
    2**63,
    [],
    {},
    {"a": "\ud800", "b\x00": 1},
    {"filters": [{"name": "\x00", "operator": "eq", "value": "x"}]},
    json.loads("[" * 40 + "]" * 40),
]
RAW_BODIES = [
    b"{",
    b"null",
    b"[]",
    b"1e400",
    b'{"name": NaN}',
    b'{"parameters": {"x": Infinity}}',
    b'{"name": "\\u0000"}',
    b"[" * 50_000,
    b'{"name": 1' + b"0" * 5000 + b"}",
    b"\xff\xfe\x00",
    b'{"parameters": ' + b"[" * 2000 + b"]" * 2000 + b"}",
]
HOSTILE_IDS = [
    "not-a-uuid",
    "00000000-0000-0000-0000-000000000000",
    str(uuid.uuid4()),
    "%00",
    "x" * 3000,
    "%2e%2e",
    "'%20OR%201=1--",
    "%F0%9F%99%82",
    "%ED%A0%80",
    "41e2b680-648e-4b09-bcd7-3e2b10c0626g",
]
HOSTILE_QUERY = {
    "page": ["0", "-1", "abc", "1e3", "99999999999999999999", "1.5", ""],
    "pageSize": ["0", "-5", "100000000", "ten", ""],
    "search": ["%", "_", "\\", "\x00", "x" * 5000, "' OR 1=1 --"],
    "type": ["zzz", "", "\x00"],
    "websiteId": ["nope", "", str(uuid.uuid4())],
    "includeTeams": ["maybe", "2", ""],
}
SKIPPED = {("POST", "/api/auth/logout")}


class Fixture:
    """Existing entities, so that requests with valid ids reach the code that handles bodies."""

    def __init__(self, client):
        self.admin = Api(client).admin()
        self.user = Api(client).new_user()
        self.team = self.admin.new_team()
        self.website = self.admin.new_website(teamId=None)
        self.link = self.admin.ok(
            "POST", "/api/links", {"name": "L", "url": "https://x.example", "slug": "hostile-link"}
        )
        self.pixel = self.admin.ok("POST", "/api/pixels", {"name": "P", "slug": "hostile-pixel"})
        report = {"websiteId": self.website["id"], "type": "goal", "name": "r", "parameters": {}}
        self.report = self.admin.ok("POST", "/api/reports", report)
        self.segment = self.admin.ok(
            "POST",
            f"/api/websites/{self.website['id']}/segments",
            {"type": "segment", "name": "s", "parameters": {}},
        )
        self.share = self.admin.ok(
            "POST", f"/api/websites/{self.website['id']}/shares", {"name": "s"}
        )
        self.api_key = self.admin.ok("POST", "/api/me/api-keys", {"name": "k"})
        self.admin.add_member(self.team["id"], self.user, "team-member")
        schema = client.get("/api/openapi.json").json()
        self.schemas = schema["components"]["schemas"]
        self.routes = [
            (method.upper(), path, operation)
            for path, operations in schema["paths"].items()
            for method, operation in operations.items()
            if (method.upper(), path) not in SKIPPED
        ]

    def valid_id(self, path: str, name: str) -> str:
        if name == "entity_id":
            entity = (
                self.link
                if path.startswith("/api/links")
                else self.pixel
                if path.startswith("/api/pixels")
                else self.website
            )
            return entity["id"]
        return {
            "website_id": self.website["id"],
            "team_id": self.team["id"],
            "user_id": self.user.user["id"],
            "report_id": self.report["id"],
            "segment_id": self.segment["id"],
            "share_id": self.share["id"],
            "slug": self.share["slug"],
            "key_id": self.api_key["id"],
            # analytics routes answer unknown events and sessions with empty results
            "event_id": str(uuid.uuid4()),
            "session_id": str(uuid.uuid4()),
        }[name]

    def fill(self, path: str, hostile: str | None = None) -> str:
        return re.sub(
            r"\{([^}]+)\}",
            lambda m: hostile if hostile is not None else self.valid_id(path, m.group(1)),
            path,
        )

    def body_fields(self, operation: dict) -> list[str]:
        ref = (
            operation.get("requestBody", {})
            .get("content", {})
            .get("application/json", {})
            .get("schema", {})
        )
        name = ref.get("$ref", "").rsplit("/", 1)[-1]
        return list(self.schemas.get(name, {}).get("properties", {}))


@pytest.fixture(scope="module")
def fixture(module_client) -> Fixture:
    return Fixture(module_client)


def _post(fixture: Fixture, url: str, body) -> object:
    # json.dumps escapes lone surrogates (\ud800), which httpx's own encoder refuses to send.
    headers = {**fixture.admin.headers, "content-type": "application/json"}
    return fixture.admin.client.post(url, content=json.dumps(body), headers=headers)


def _check(response, what: str) -> None:
    assert response.status_code < 500, f"{what} -> {response.status_code} {response.text[:300]}"
    if response.status_code >= 400 and response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        assert set(response.json()["error"]) >= {"message", "code", "status"}, what


def test_hostile_ids(fixture):
    for method, path, _ in fixture.routes:
        if "{" not in path:
            continue
        for hostile in HOSTILE_IDS:
            url = fixture.fill(path, hostile)
            _check(
                fixture.admin.request(method, url, json={} if method == "POST" else None),
                f"{method} {url[:80]}",
            )


def test_hostile_bodies_and_field_values(fixture):
    client = fixture.admin.client
    for method, path, operation in fixture.routes:
        if method != "POST":
            continue
        url = fixture.fill(path)
        for raw in RAW_BODIES:
            response = client.post(
                url,
                content=raw,
                headers={**fixture.admin.headers, "content-type": "application/json"},
            )
            _check(response, f"POST {path} raw {raw[:30]!r}")
        for name in fixture.body_fields(operation):
            for value in HOSTILE_VALUES:
                if name == "password" or path == "/api/me/password":
                    continue  # would lock the fixture's admin out; validated like any other field
                _check(
                    _post(fixture, url, {name: value}), f"POST {path} {name}={str(value)[:40]!r}"
                )


def test_hostile_query_parameters(fixture):
    for method, path, operation in fixture.routes:
        if method != "GET":
            continue
        url = fixture.fill(path)
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        for name, values in HOSTILE_QUERY.items():
            if name not in declared:
                continue
            for value in values:
                _check(
                    fixture.admin.get(url, params={name: value}),
                    f"GET {path} ?{name}={value[:40]!r}",
                )
        for raw in (
            "search=%ED%A0%80",
            "search=%FF",
            "page=%00",
            "type=%C0%AF",
            "search=a&search=b",
        ):
            _check(fixture.admin.get(f"{url}?{raw}"), f"GET {path}?{raw}")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=300),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5)
    ),
    max_leaves=20,
)


def test_generated_bodies(fixture):
    posts = [
        (path, op)
        for method, path, op in fixture.routes
        if method == "POST" and path != "/api/me/password"
    ]

    @settings(
        max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(st.data())
    def run(data):
        path, operation = data.draw(st.sampled_from(posts))
        fields = [f for f in fixture.body_fields(operation) if f != "password"]
        extra = st.sampled_from(fields) if fields else st.text(max_size=10)
        body = data.draw(st.dictionaries(extra, json_values, max_size=6) | json_values)
        _check(_post(fixture, fixture.fill(path), body), f"POST {path} {str(body)[:200]}")

    run()
