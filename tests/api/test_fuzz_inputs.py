"""Nothing a client puts in a query string yields a 500: every GET route's declared query
parameters (walked from the OpenAPI schema: analytics and management alike) get hostile values,
on both engines, with the other parameters valid so that the value reaches the parsers and the
engine. Then the cases the audit found, with the parameter named in the 400, and saved cohorts
whose definitions no query can use."""

from __future__ import annotations

import itertools
import re
import uuid
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from katsuo.store import schema
from tests.helpers import Api

START, END = 1_767_225_600_000, 1_769_904_000_000  # 2026-01-01 .. 2026-02-01 UTC
NUMBER_5000 = "9" * 5000
# Values as they go on the wire (already percent-encoded): NUL, an encoded lone surrogate,
# invalid UTF-8, sizes, numbers no engine takes, junk dates, LIKE wildcards, SQL.
HOSTILE = [
    "%00",
    "a%00b",
    "c.%00",
    "%ED%A0%80",
    "%FF",
    "x" * 10_000,
    NUMBER_5000,
    "-" + NUMBER_5000,
    "Infinity",
    "-Infinity",
    "NaN",
    "1e308",
    "-1",
    "-9223372036854775809",
    "1.5",
    "0x10",
    "253402300800000",
    "-62135596800001",
    "10000-01-01",
    "2026-13-45",
    "%25",
    "_",
    "c.50%25_%5C",
    "eq.%00",
    "re.(",
    "%27%20OR%201%3D1--",
    "1;DROP%20TABLE%20session",
    "[]",
    "%20",
]
# Values every analytics route accepts, so that a hostile value in one parameter meets valid
# others (a missing startAt would stop a request before its filters are read).
VALID = {
    "startAt": str(START),
    "endAt": str(END),
    "unit": "day",
    "timezone": "Europe/Paris",
    "event": "signup",
    "propertyName": "plan",
}


class Site:
    """A website with a few hits, a segment and a cohort, and the schema's GET routes."""

    def __init__(self, client):
        self.admin = Api(client).admin()
        self.website = self.admin.new_website(domain="fuzz.example")
        self.id = self.website["id"]
        for path, name in (("/50%off", None), ("/a_b", None), ("/x", "signup")):
            payload = {
                "website": self.id,
                "url": path,
                "hostname": "fuzz.example",
                "language": "en",
                "screen": "1x1",
                "timestamp": (START + 86_400_000) // 1000,
            }
            if name:
                payload.update(name=name, data={"plan": "pro"})
            response = client.post(
                "/api/send",
                json={"type": "event", "payload": payload},
                headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"},
            )
            assert response.status_code == 200, response.text
        base = f"/api/websites/{self.id}/segments"
        self.segment = self.admin.ok(
            "POST",
            base,
            {
                "type": "segment",
                "name": "s",
                "parameters": {"filters": [{"name": "path", "operator": "c", "value": "50%"}]},
            },
        )
        self.cohort = self.admin.ok(
            "POST",
            base,
            {
                "type": "cohort",
                "name": "c",
                "parameters": {"dateRange": "30day", "action": {"type": "path", "value": "/x"}},
            },
        )
        spec = client.get("/api/openapi.json").json()
        self.routes = [
            (path, [p for p in operation.get("parameters", []) if p["in"] == "query"])
            for path, operations in spec["paths"].items()
            for method, operation in operations.items()
            if method == "get"
        ]

    def url(self, path: str) -> str:
        ids = {"website_id": self.id, "entity_id": self.id, "segment_id": self.segment["id"]}
        return re.sub(r"\{([^}]+)\}", lambda m: ids.get(m.group(1), str(uuid.uuid4())), path)

    def valid(self, path: str, parameter: dict) -> str | None:
        name = parameter["name"]
        if name == "type":
            enum = [s.get("enum") for s in parameter["schema"].get("anyOf", [parameter["schema"]])]
            return next((e[0] for e in enum if e), "path")
        if name in ("segment", "cohort"):
            return None
        return VALID.get(name)

    def get(self, path: str, query: str):
        return self.admin.client.get(f"{path}?{query}", headers=self.admin.headers)


@pytest.fixture(scope="module")
def site(module_client) -> Site:
    return Site(module_client)


def check(response, what: str) -> None:
    assert response.status_code < 500, f"{what} -> {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        assert set(response.json()["error"]) >= {"message", "code", "status"}, what


def test_every_declared_query_parameter(site):
    """Each (route, parameter) gets a share of the hostile values, and every value meets every
    parameter on some route: the full product would take minutes on both engines."""
    rotation = itertools.count()
    for path, parameters in site.routes:
        url = site.url(path)
        valid = {p["name"]: v for p in parameters if (v := site.valid(path, p)) is not None}
        for parameter in parameters:
            name = parameter["name"]
            for _ in range(2):
                value = HOSTILE[next(rotation) % len(HOSTILE)]
                query = "&".join(f"{k}={quote(v)}" for k, v in valid.items() if k != name)
                check(site.get(url, f"{query}&{name}={value}"), f"GET {path} ?{name}={value[:40]}")


@pytest.mark.parametrize("value", HOSTILE)
def test_undeclared_filter_repeats_and_every_analytics_route(site, value):
    """Numbered repeats (path1, …) are not declared but parsed: they get the same checks."""
    query = "&".join(f"{k}={quote(v)}" for k, v in VALID.items())
    for path, _ in site.routes:
        if "{website_id}" in path and "segments" not in path:
            url = site.url(path)
            check(
                site.get(url, f"{query}&type=path&path1={value}&city2=c.{value}"),
                f"GET {path} {value[:40]}",
            )


RANGE = f"startAt={START}&endAt={END}"


@pytest.mark.parametrize(
    ("route", "query", "named"),
    [
        ("stats", f"{RANGE}&eventType={NUMBER_5000}", "eventType"),
        ("stats", f"{RANGE}&eventType=1,{NUMBER_5000}", "eventType"),
        ("metrics", f"{RANGE}&type=path&limit=Infinity", "limit"),
        ("metrics", f"{RANGE}&type=path&limit=NaN", "limit"),
        ("metrics", f"{RANGE}&type=path&limit=1e308", "limit"),
        ("metrics", f"{RANGE}&type=path&offset=-1", "offset"),
        ("metrics", f"{RANGE}&type=path&offset={NUMBER_5000}", "offset"),
        ("metrics", f"{RANGE}&type=path&limit=99999999999999999999", "limit"),
        ("events/series", f"{RANGE}&timezone=UTC&limit=Infinity", "limit"),
        ("events", f"{RANGE}&pageSize={NUMBER_5000}", "pageSize"),
        ("stats", f"{RANGE}&path=a%00b", "path"),
        ("stats", f"{RANGE}&path1=c.%00", "path1"),
        ("stats", f"{RANGE}&city=dnc.%00", "city"),
        ("metrics", f"{RANGE}&type=path&search=%00", "search"),
        ("sessions", f"{RANGE}&search=a%00", "search"),
        ("events", f"{RANGE}&search=a%00", "search"),
        ("values", f"{RANGE}&type=path&search=%00", "search"),
        ("event-data/values", f"{RANGE}&event=%00&propertyName=x", "event"),
        ("session-data/values", f"{RANGE}&propertyName=%00", "propertyName"),
        ("stats", f"{RANGE}&timezone=Europe/Paris%00", "timezone"),
        ("stats", f"{RANGE}&path={'x' * 10_000}", "path"),
        ("stats", "startAt=-1e400&endAt=1", "startAt"),
        ("stats", "startAt=10000-01-01&endAt=1", "startAt"),
        ("stats", "startAt=0&endAt=253402300800000", "endAt"),
        ("pageviews", f"{RANGE}&unit=fortnight", "unit"),
    ],
)
def test_bad_values_are_a_400_naming_the_parameter(site, route, query, named):
    response = site.get(f"/api/websites/{site.id}/{route}", query)
    assert response.status_code == 400, response.text
    assert named in response.json()["error"]["message"]


@pytest.mark.parametrize("unit", ["minute", "hour", "day", "month", "year"])
@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_ranges_at_the_edges_of_time(site, unit, zone):
    """The whole range every engine stores, and its last and first days, in zones ahead of and
    behind UTC: answers, never a 500 (labels past year 9999 and 12-month limits from a date in
    year 9999 used to overflow)."""
    last_day = 253_402_214_400_000  # 9999-12-31
    for start, end in (
        (-62_135_596_800_000, 253_402_300_799_999),
        (last_day, 253_402_300_799_999),
        (-62_135_596_800_000, -62_135_510_400_001),
    ):
        for route in ("stats", "pageviews", "sessions/weekly", "events/series", "metrics"):
            query = f"startAt={start}&endAt={end}&unit={unit}&timezone={zone}&type=path&compare=yoy"
            check(
                site.get(f"/api/websites/{site.id}/{route}", query),
                f"{route} {start}..{end} {unit} {zone}",
            )


def _store(client, segment_id: str, parameters: dict) -> None:
    """Write a definition as an older version (or Umami itself) could have stored it."""
    db = client.app.state.services.db
    with db.begin() as conn:
        conn.execute(
            sa.update(schema.segment)
            .where(schema.segment.c.segment_id == uuid.UUID(segment_id))
            .values(parameters=parameters)
        )


BAD_DEFINITIONS = [
    ({"dateRange": "999999999year", "action": {"type": "path", "value": "/"}}, "dateRange"),
    ({"dateRange": "99999year", "action": {"type": "path", "value": "/"}}, "dateRange"),
    ({"dateRange": "99999month", "action": {"type": "path", "value": "/"}}, "dateRange"),
    ({"dateRange": "range:0:1e400", "action": {"type": "path", "value": "/"}}, "dateRange"),
    ({"dateRange": 30, "action": {"type": "path", "value": "/"}}, "dateRange"),
    ({"action": {"type": "path", "value": "/"}, "filters": "path"}, "filters"),
    (
        {
            "action": {"type": "path", "value": "/"},
            "filters": [{"name": "eventType", "operator": "eq", "value": NUMBER_5000}],
        },
        "eventType",
    ),
    ({"action": {"type": "path", "value": ["/"]}}, "action"),
    ({"action": {"type": "path", "value": "/"}, "match": "some"}, "match"),
]


@pytest.mark.parametrize(("parameters", "named"), BAD_DEFINITIONS)
def test_cohort_definitions_checked_on_save_and_on_use(site, module_client, parameters, named):
    base = f"/api/websites/{site.id}/segments"
    response = site.admin.post(base, {"type": "cohort", "name": "bad", "parameters": parameters})
    assert response.status_code == 400 and named in response.json()["error"]["message"], (
        response.text
    )
    response = site.admin.post(
        f"{base}/{site.cohort['id']}", {"type": "cohort", "name": "bad", "parameters": parameters}
    )
    assert response.status_code == 400 and named in response.json()["error"]["message"], (
        response.text
    )

    stored = site.admin.ok(
        "POST", base, {"type": "cohort", "name": "later broken", "parameters": {}}
    )
    _store(module_client, stored["id"], parameters)
    for use in ("cohort", "segment"):
        response = site.get(f"/api/websites/{site.id}/stats", f"{RANGE}&{use}={stored['id']}")
        if use == "segment" and named in ("dateRange", "action"):
            assert response.status_code == 200, (
                response.text
            )  # a segment reads only filters and match
        else:
            assert response.status_code == 400 and named in response.json()["error"]["message"], (
                response.text
            )
