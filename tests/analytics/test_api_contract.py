"""The read API's contract around the numbers: unknown websites, permissions (users, teams,
share tokens), link and pixel ids, validation errors naming the parameter, realtime and active
visitors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from katsuo.store import schema
from tests.analytics.model import at, ms

RANGE = {"startAt": ms(at("2026-03-01 00:00:00")), "endAt": ms(at("2026-03-31 23:59:59"))}
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"


def hit(
    api,
    website,
    url="/",
    *,
    ip="81.2.69.40",
    name=None,
    timestamp=None,
    country="SE",
    referrer=None,
):
    payload = {"website": website, "url": url, "hostname": "example.com", "screen": "1920x1080"}
    if name:
        payload["name"] = name
    if timestamp:
        payload["timestamp"] = timestamp
    if referrer:
        payload["referrer"] = referrer
    response = api.client.post(
        "/api/send",
        json={"type": "event", "payload": payload},
        headers={"User-Agent": UA, "X-Forwarded-For": ip, "CF-IPCountry": country},
    )
    assert response.status_code == 200, response.text


def test_unknown_website_is_404(api):
    admin = api.admin()
    response = admin.get(f"/api/websites/{uuid.uuid4()}/stats", params=RANGE)
    assert response.status_code == 404
    assert admin.get("/api/websites/not-a-uuid/stats", params=RANGE).status_code == 400


def test_needs_view_permission(api):
    admin = api.admin()
    website = admin.new_website()["id"]
    other = api.new_user()
    assert other.get(f"/api/websites/{website}/stats", params=RANGE).status_code == 401
    assert api.get(f"/api/websites/{website}/stats", params=RANGE).status_code == 401
    assert other.get(f"/api/realtime/{website}").status_code == 401


def test_share_token_opens_the_shared_website(api, services):
    admin = api.admin()
    website = admin.new_website()["id"]
    hit(admin, website, timestamp=int(at("2026-03-05 10:00:00").timestamp()))
    share = admin.ok("POST", f"/api/websites/{website}/shares", {"name": "public"})
    token = api.ok("GET", f"/api/share/{share['slug']}")["token"]
    headers = {"x-umami-share-token": token, "x-umami-share-context": "1"}
    response = api.client.get(f"/api/websites/{website}/stats", params=RANGE, headers=headers)
    assert response.status_code == 200 and response.json()["pageviews"] == 1
    other = admin.new_website()["id"]
    assert (
        api.client.get(f"/api/websites/{other}/stats", params=RANGE, headers=headers).status_code
        == 401
    )


def test_link_and_pixel_ids_are_accepted(api, services):
    admin = api.admin()
    link_id, pixel_id = uuid.uuid4(), uuid.uuid4()
    with services.db.begin() as conn:
        conn.execute(
            schema.link.insert().values(
                link_id=link_id,
                name="Docs",
                url="https://example.com/docs",
                slug="docs-link-1",
                user_id=admin.user["id"],
                created_at=datetime.now(UTC),
            )
        )
        conn.execute(
            schema.pixel.insert().values(
                pixel_id=pixel_id,
                name="Mail",
                slug="mail-pixel-1",
                user_id=admin.user["id"],
                created_at=datetime.now(UTC),
            )
        )
    for path in ("/q/docs-link-1", "/q/docs-link-1", "/p/mail-pixel-1"):
        api.client.get(
            path,
            headers={"User-Agent": UA, "X-Forwarded-For": "81.2.69.41"},
            follow_redirects=False,
        )
    now = datetime.now(UTC)
    window = {"startAt": ms(now) - 3_600_000, "endAt": ms(now) + 60_000}
    assert admin.ok("GET", f"/api/websites/{link_id}/stats", params=window)["pageviews"] == 2
    assert admin.ok("GET", f"/api/websites/{pixel_id}/stats", params=window)["pageviews"] == 1
    assert admin.ok("GET", f"/api/websites/{link_id}/active") == {"visitors": 1}


@pytest.mark.parametrize(
    "endpoint,params,name",
    [
        ("stats", {"endAt": "1"}, "startAt"),
        ("stats", {"startAt": "abc", "endAt": "1"}, "startAt"),
        ("stats", {"startAt": "5", "endAt": "4"}, "endAt"),
        ("pageviews", {**RANGE, "unit": "week"}, "unit"),
        ("pageviews", {**RANGE, "timezone": "Mars/Olympus_Mons"}, "timezone"),
        ("pageviews", {**RANGE, "compare": "last"}, "compare"),
        ("metrics", {**RANGE}, "type"),
        ("metrics", {**RANGE, "type": "colour"}, "type"),
        ("metrics", {**RANGE, "type": "path", "limit": "-1"}, "limit"),
        ("metrics", {**RANGE, "type": "path", "path": "gt.5"}, "path"),
        ("stats", {**RANGE, "path": "re.(unclosed"}, "path"),
        ("stats", {**RANGE, "browser1": "nre.[a-"}, "browser1"),
        ("stats", {**RANGE, "match": "some"}, "match"),
        ("stats", {**RANGE, "segment": "nope"}, "segment"),
        ("stats", {**RANGE, "segment": str(uuid.uuid4())}, "segment"),
        ("stats", {**RANGE, "cohort": str(uuid.uuid4())}, "cohort"),
        ("stats", {**RANGE, "eventType": "two"}, "eventType"),
        ("events", {**RANGE, "page": "0"}, "page"),
        ("events", {**RANGE, "pageSize": "x"}, "pageSize"),
        ("sessions/weekly", {**RANGE}, "timezone"),
        ("values", {**RANGE}, "type"),
    ],
)
def test_bad_input_is_400_naming_the_parameter(api, endpoint, params, name):
    admin = api.admin()
    website = admin.new_website()["id"]
    hit(admin, website, timestamp=int(at("2026-03-05 10:00:00").timestamp()))
    response = admin.get(f"/api/websites/{website}/{endpoint}", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].startswith(name), response.json()


@pytest.mark.parametrize(
    "endpoint,extra",
    [
        ("stats", {}),
        ("pageviews", {"compare": "yoy", "unit": "year"}),
        ("metrics", {"type": "browser"}),
        ("sessions/weekly", {"timezone": "Europe/Paris"}),
        ("events/series", {"timezone": "Europe/Paris"}),
    ],
)
def test_the_widest_range_is_answered(api, endpoint, extra):
    admin = api.admin()
    website = admin.new_website()["id"]
    hit(admin, website, timestamp=int(at("2026-03-05 10:00:00").timestamp()))
    params = {"startAt": "-62135596800000", "endAt": "253402300799999", **extra}
    response = admin.get(f"/api/websites/{website}/{endpoint}", params=params)
    assert response.status_code == 200, response.text


def test_reset_clamps_the_range(api, services):
    admin = api.admin()
    website = admin.new_website()["id"]
    hit(admin, website, timestamp=int(at("2026-03-05 10:00:00").timestamp()))
    with services.db.begin() as conn:
        conn.execute(
            schema.website.update()
            .where(schema.website.c.website_id == uuid.UUID(website))
            .values(reset_at=at("2026-03-06 00:00:00"))
        )
    assert admin.ok("GET", f"/api/websites/{website}/stats", params=RANGE)["pageviews"] == 0
    assert admin.ok("GET", f"/api/websites/{website}/pageviews", params=RANGE) == {
        "pageviews": [],
        "sessions": [],
    }


def test_realtime_and_active(api):
    admin = api.admin()
    website = admin.new_website()["id"]
    hit(admin, website, "/", ip="81.2.69.50", country="SE", referrer="https://www.google.com/")
    hit(admin, website, "/pricing", ip="81.2.69.50", country="SE")
    hit(admin, website, "/pricing", ip="81.2.69.50", country="SE", name="buy")
    hit(admin, website, "/", ip="81.2.69.51", country="FI")
    body = admin.ok("GET", f"/api/realtime/{website}")
    assert body["countries"] == {"SE": 1, "FI": 1}
    assert body["urls"] == {"/": 2, "/pricing": 2}
    assert body["referrers"] == {"google.com": 1}
    kinds = [event["__type"] for event in body["events"]]
    assert (
        kinds.count("session") == 2 and kinds.count("event") == 1 and kinds.count("pageview") == 3
    )
    assert (
        body["totals"]["views"] == 3
        and body["totals"]["events"] == 1
        and body["totals"]["countries"] == 2
    )
    assert body["totals"]["visitors"] == sum(p["y"] for p in body["series"]["visitors"])
    assert all(p["x"].endswith(":00Z") for p in body["series"]["views"])
    assert isinstance(body["timestamp"], int)
    assert admin.ok("GET", f"/api/websites/{website}/active") == {"visitors": 2}
