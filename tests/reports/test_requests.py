"""The report envelope: bad parameters answer 400 naming the parameter (never a 500, including
for generated junk), view permission (users, teams, share tokens), dates as ISO or ms, the
website's reset time, and saved reports run by id the way Umami's dashboard runs them."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from katsuo.analytics.reports import RUNNERS
from tests.analytics.conftest import send
from tests.analytics.model import at, iso, ms
from tests.helpers import Api
from tests.reports import traffic

FUNNEL = {
    "steps": [{"type": "path", "value": "/"}, {"type": "path", "value": "/pricing"}],
    "window": 30,
}

BAD = [
    ("funnel", {"steps": [{"type": "path", "value": "/"}], "window": 30}, "parameters.steps"),
    ("funnel", {"steps": [{"type": "path", "value": "/"}] * 9, "window": 30}, "parameters.steps"),
    ("funnel", {"steps": "/", "window": 30}, "parameters.steps"),
    (
        "funnel",
        {"steps": [{"type": "page", "value": "/"}, {"type": "path", "value": "/a"}], "window": 30},
        "parameters.steps.0.type",
    ),
    (
        "funnel",
        {"steps": [{"type": "path"}, {"type": "path", "value": "/a"}], "window": 30},
        "parameters.steps.0.value",
    ),
    (
        "funnel",
        {"steps": [{"type": "path", "value": "/"}, "x"], "window": 30},
        "parameters.steps.1",
    ),
    ("funnel", {**FUNNEL, "window": 0}, "parameters.window"),
    ("funnel", {**FUNNEL, "window": "soon"}, "parameters.window"),
    ("funnel", {"steps": FUNNEL["steps"]}, "parameters.window"),
    (
        "funnel",
        {
            "steps": [
                FUNNEL["steps"][0],
                {"type": "event", "value": "x", "filters": [{"property": "p"}]},
            ],
            "window": 5,
        },
        "parameters.steps.1.filters.0.operator",
    ),
    ("journey", {"steps": 2}, "parameters.steps"),
    ("journey", {"steps": 10**400}, "parameters.steps"),
    ("funnel", {**FUNNEL, "window": 10**400}, "parameters.window"),
    ("journey", {"steps": 8}, "parameters.steps"),
    ("journey", {"steps": "three"}, "parameters.steps"),
    ("journey", {}, "parameters.steps"),
    ("journey", {"steps": 3, "eventType": 9}, "parameters.eventType"),
    ("goal", {"type": "page", "value": "/"}, "parameters.type"),
    ("goal", {"type": "path"}, "parameters.value"),
    ("attribution", {"model": "linear", "type": "path", "step": "/"}, "parameters.model"),
    ("attribution", {"model": "first-click", "type": "click", "step": "/"}, "parameters.type"),
    ("attribution", {"model": "first-click", "type": "path"}, "parameters.step"),
    (
        "attribution",
        {"model": "first-click", "type": "path", "step": "/", "currency": "ZZZ"},
        "parameters.currency",
    ),
    ("revenue", {"currency": "ABC"}, "parameters.currency"),
    ("revenue", {}, "parameters.currency"),
    ("revenue", {"currency": 840}, "parameters.currency"),
    ("revenue", {"currency": "USD", "compare": "last"}, "compare"),
    ("revenue", {"currency": "USD", "unit": "week"}, "unit"),
    ("breakdown", {"fields": []}, "parameters.fields"),
    ("breakdown", {"fields": ["os", "screen"]}, "parameters.fields.1"),
    ("breakdown", {}, "parameters.fields"),
    ("performance", {"metric": "fid"}, "parameters.metric"),
    ("retention", {"timezone": "Mars/Olympus"}, "timezone"),
]


def error(response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["status"] == status
    return body["message"]


@pytest.mark.parametrize(("report_type", "parameters", "named"), BAD)
def test_bad_parameters_name_the_parameter(data, report_type, parameters, named):
    response = data.client.post(
        f"/api/reports/{report_type}",
        headers=data.headers,
        json=data.body(report_type, **parameters),
    )
    assert named in error(response)


@pytest.mark.parametrize(
    ("start", "end", "named"),
    [
        (None, "2026-04-01T00:00:00Z", "parameters.startDate"),
        ("2026-04-01T00:00:00Z", None, "parameters.endDate"),
        ("yesterday", "2026-04-01T00:00:00Z", "parameters.startDate"),
        ("2026-04-01T00:00:00Z", "2026-13-01T00:00:00Z", "parameters.endDate"),
        ("2026-04-02T00:00:00Z", "2026-04-01T00:00:00Z", "parameters.endDate"),
        (1e300, "2026-04-01T00:00:00Z", "parameters.startDate"),
        (10**400, "2026-04-01T00:00:00Z", "parameters.startDate"),
        ("0001-01-01T00:00:00+01:00", "2026-04-01T00:00:00Z", "parameters.startDate"),
        ([2026], "2026-04-01T00:00:00Z", "parameters.startDate"),
        (True, "2026-04-01T00:00:00Z", "parameters.startDate"),
    ],
)
def test_bad_dates(data, start, end, named):
    parameters = {k: v for k, v in (("startDate", start), ("endDate", end)) if v is not None}
    body = {"websiteId": data.website, "type": "utm", "filters": {}, "parameters": parameters}
    assert named in error(data.client.post("/api/reports/utm", headers=data.headers, json=body))


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"websiteId": None}, "websiteId"),
        ({"websiteId": "nope"}, "websiteId"),
        ({"type": "funnel"}, "type"),
        ({"type": None}, "type"),
        ({"filters": []}, "filters"),
        ({"filters": {"os": 3}}, "filters.os"),
        ({"filters": {"eventType": 10**400}}, "eventType"),
        ({"filters": {"eventType": "2147483648"}}, "eventType"),
        ({"filters": {"os": "s.Linux"}}, "os"),
        ({"filters": {"segment": "not-a-uuid"}}, "segment"),
        ({"filters": {"match": "some"}}, "match"),
        ({"parameters": [1]}, "parameters"),
    ],
)
def test_bad_envelopes(data, body, named):
    request = {
        k: v
        for k, v in {**data.body("retention"), **body}.items()
        if k != "websiteId" or v is not None
    }
    assert named in error(
        data.client.post("/api/reports/retention", headers=data.headers, json=request)
    )


def test_dates_as_milliseconds_or_iso(data):
    as_iso = data.run("goal", type="path", value="/pricing")
    by_ms = {**data.body("goal", type="path", value="/pricing")}
    by_ms["parameters"].update(startDate=ms(traffic.START), endDate=str(ms(traffic.END)))
    response = data.client.post("/api/reports/goal", headers=data.headers, json=by_ms)
    assert response.status_code == 200 and response.json() == as_iso
    # Unknown filter keys and numeric suffixes are dropped, as Umami's validation drops them.
    loose = data.run(
        "goal",
        filters={"browser1": "nothing", "screen": "1x1", "excludeBounce": "1"},
        type="path",
        value="/pricing",
    )
    assert loose == as_iso


@pytest.mark.parametrize("value", ["*docs\\", "*\\\\", "\\*", "*%_*", "**", "*", "/docs\\*"])
def test_odd_wildcard_values_are_not_errors(data, value):
    """LIKE patterns built from step values: a trailing backslash would be a dangling escape."""
    data.run(
        "funnel",
        steps=[{"type": "path", "value": value}, {"type": "event", "value": value}],
        window=5,
    )
    data.run("goal", type="path", value=value)


JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = [
    "steps",
    "window",
    "type",
    "value",
    "model",
    "step",
    "currency",
    "fields",
    "startStep",
    "endStep",
    "eventType",
    "metric",
    "unit",
    "timezone",
    "compare",
    "startDate",
    "endDate",
]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    report_type=st.sampled_from(sorted(RUNNERS)),
    parameters=st.dictionaries(st.sampled_from(KEYS), JUNK),
    filters=JUNK,
)
def test_junk_never_fails_the_server(data, report_type, parameters, filters):
    body = {
        "websiteId": data.website,
        "type": report_type,
        "filters": filters,
        "parameters": {"startDate": iso(traffic.START), "endDate": iso(traffic.END), **parameters},
    }
    response = data.client.post(f"/api/reports/{report_type}", headers=data.headers, json=body)
    assert response.status_code in (200, 400), response.text


def test_view_permission(data):
    client = data.client
    anonymous = Api(client)
    body = data.body("goal", type="path", value="/pricing")
    assert anonymous.post("/api/reports/goal", body).status_code == 401
    stranger = Api(client, data.token).new_user()
    assert stranger.post("/api/reports/goal", body).status_code == 401
    assert error(
        Api(client, data.token).post("/api/reports/goal", {**body, "websiteId": str(traffic_id())}),
        404,
    )
    # A share token of the website may run the reports its share publishes.
    admin = Api(client, data.token)
    share = admin.ok(
        "POST",
        f"/api/websites/{data.website}/shares",
        {"name": "public", "parameters": {"goals": True}},
    )
    token = anonymous.ok("GET", f"/api/share/{share['slug']}")["token"]
    shared = Api(client, share_token=token)
    assert shared.ok("POST", "/api/reports/goal", body) == data.run(
        "goal", type="path", value="/pricing"
    )
    other = admin.new_website(name="Other")
    assert shared.post("/api/reports/goal", {**body, "websiteId": other["id"]}).status_code == 401
    # A team member with view-only rights may run them too.
    team = stranger.new_team(name="Viewers")
    viewer = admin.new_user()
    stranger.add_member(team["id"], viewer, "team-view-only")
    team_site = stranger.new_website(name="Team site", teamId=team["id"])
    assert viewer.ok(
        "POST", "/api/reports/utm", {**data.body("utm"), "websiteId": team_site["id"]}
    ) == {"utm_source": [], "utm_medium": [], "utm_campaign": [], "utm_term": [], "utm_content": []}


def traffic_id():
    import uuid

    return uuid.uuid5(uuid.NAMESPACE_URL, "https://katsuo.test/no-such-website")


def test_saved_reports_run_as_umami_runs_them(data):
    """Umami's dashboard reads a saved report and posts its parameters, with the date range and
    filters of the page, to /api/reports/<type>; /api/reports/:id/run does the merge itself."""
    admin = Api(data.client, data.token)
    saved = admin.ok(
        "POST",
        "/api/reports",
        {"websiteId": data.website, "type": "funnel", "name": "Checkout", "parameters": FUNNEL},
    )
    read = admin.ok("GET", f"/api/reports/{saved['id']}")
    dates = {"startDate": iso(traffic.START), "endDate": iso(traffic.END)}
    as_ui = admin.ok(
        "POST",
        f"/api/reports/{read['type']}",
        {
            "websiteId": read["websiteId"],
            "type": read["type"],
            "filters": {"country": "US"},
            "parameters": {**read["parameters"], **dates},
        },
    )
    assert as_ui == data.expect.funnel(
        traffic.START, traffic.END, FUNNEL["steps"], 30, data.selections["country"][1]
    )
    by_id = admin.ok(
        "POST",
        f"/api/reports/{saved['id']}/run",
        {"filters": {"country": "US"}, "parameters": dates},
    )
    assert by_id == as_ui
    # Request parameters override saved ones; a report's own bad parameters are still a 400.
    wider = admin.ok(
        "POST", f"/api/reports/{saved['id']}/run", {"parameters": {**dates, "window": 60 * 48}}
    )
    assert wider == data.expect.funnel(traffic.START, traffic.END, FUNNEL["steps"], 60 * 48)
    assert "parameters.window" in error(
        admin.post(f"/api/reports/{saved['id']}/run", {"parameters": {**dates, "window": -1}})
    )
    assert "parameters.startDate" in error(admin.post(f"/api/reports/{saved['id']}/run", {}))
    # Running needs view access to the report's website.
    assert (
        Api(data.client, data.token)
        .new_user()
        .post(f"/api/reports/{saved['id']}/run", {"parameters": dates})
        .status_code
        == 401
    )
    assert error(admin.post(f"/api/reports/{traffic_id()}/run", {"parameters": dates}), 404)


def test_range_starts_at_the_websites_reset(data, engine):
    """Reports read from the website's reset time on, like every analytics endpoint."""
    admin = Api(data.client, data.token)
    website = admin.new_website(name="Reset", domain="example.com")["id"]
    early = traffic.hits()[:5]  # anna's first visit, 27 March 10:00-10:20
    for hit in early:
        send(data.client, website, hit)
    body = {
        "websiteId": website,
        "type": "goal",
        "filters": {},
        "parameters": {
            "startDate": iso(traffic.START),
            "endDate": iso(traffic.END),
            "type": "path",
            "value": "/",
        },
    }
    assert admin.ok("POST", "/api/reports/goal", body) == {"num": 1, "total": 1}
    with data.services.db.begin() as conn:
        conn.exec_driver_sql(
            f"update website set reset_at = '{at('2026-03-27 10:05:00').isoformat()}' "
            f"where website_id = '{website}'"
        )
    assert admin.ok("POST", "/api/reports/goal", body) == {"num": 0, "total": 1}
