"""GET /q/<slug> and /p/<slug>: the hit is recorded under the link / pixel id, then redirect / GIF.
Link and pixel CRUD lives elsewhere, so the rows are inserted directly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from katsuo.store import schema
from tests.collect.conftest import UA


def _insert(services, table, **values):
    with services.db.begin() as conn:
        conn.execute(table.insert().values(created_at=datetime.now(UTC), **values))


def test_short_link_records_and_redirects(client, services, stored):
    link_id = uuid.uuid4()
    _insert(
        services,
        schema.link,
        link_id=link_id,
        name="Spring",
        url="https://example.com/landing",
        slug="spring",
    )
    response = client.get(
        "/q/spring?utm_source=mail",
        headers={"User-Agent": UA, "Referer": "https://news.example.org/x"},
        follow_redirects=False,
    )
    assert response.status_code == 307
    assert response.headers["location"] == "https://example.com/landing"
    [event] = stored("website_event", website_id=link_id)
    assert (event["event_type"], event["url_path"], event["url_query"]) == (
        3,
        "/q/spring",
        "utm_source=mail",
    )
    assert event["utm_source"] == "mail" and event["referrer_domain"] == "news.example.org"
    [session] = stored("session", website_id=link_id)
    assert session["browser"] == "chrome"


def test_pixel_records_and_returns_a_gif(client, services, stored):
    pixel_id = uuid.uuid4()
    _insert(services, schema.pixel, pixel_id=pixel_id, name="Mail", slug="mail-open")
    response = client.get("/p/mail-open", headers={"User-Agent": UA})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/gif"
    assert response.headers["cache-control"] == "no-cache, no-store, must-revalidate"
    assert len(response.content) == 43 and response.content.startswith(b"GIF89a")
    [event] = stored("website_event", website_id=pixel_id)
    assert (event["event_type"], event["url_path"]) == (4, "/p/mail-open")


def test_bot_clicks_still_redirect_but_are_not_recorded(client, services, stored):
    link_id = uuid.uuid4()
    _insert(
        services, schema.link, link_id=link_id, name="L", url="https://example.com/", slug="botty"
    )
    response = client.get("/q/botty", headers={"User-Agent": "curl/8.4.0"}, follow_redirects=False)
    assert response.status_code == 307
    assert stored("website_event", website_id=link_id) == []


def test_unknown_slugs_are_404(client):
    assert client.get("/q/nothing-here", headers={"User-Agent": UA}).status_code == 404
    assert (
        client.get("/p/nothing-here", headers={"User-Agent": UA}).json()["error"]["status"] == 404
    )


def test_a_stored_link_that_is_not_an_http_url_is_never_redirected_to(client, services):
    """The API refuses such URLs; one stored otherwise (by Umami, by hand) answers 404."""
    for slug, url in (
        ("js-link1", "javascript:alert(document.cookie)"),
        ("data-link", "data:text/html,x"),
        ("rel-link1", "/elsewhere"),
    ):
        _insert(services, schema.link, link_id=uuid.uuid4(), name="Bad", url=url, slug=slug)
        response = client.get(f"/q/{slug}", headers={"User-Agent": UA}, follow_redirects=False)
        assert response.status_code == 404 and "location" not in response.headers


def test_changes_to_links_and_pixels_answer_at_once(api, client):
    """Create, update and delete through the API are seen by the next /q/ and /p/ request of this
    process: no stale redirect, no deleted link or pixel answering, no cached 404."""
    user = api.new_user()
    assert client.get("/q/fresh-link", headers={"User-Agent": UA}).status_code == 404
    assert client.get("/p/fresh-pixel", headers={"User-Agent": UA}).status_code == 404
    link = user.ok(
        "POST", "/api/links", {"name": "L", "url": "https://one.example/", "slug": "fresh-link"}
    )
    pixel = user.ok("POST", "/api/pixels", {"name": "P", "slug": "fresh-pixel"})

    def location():
        response = client.get("/q/fresh-link", headers={"User-Agent": UA}, follow_redirects=False)
        return response.status_code, response.headers.get("location")

    assert location() == (307, "https://one.example/")
    assert client.get("/p/fresh-pixel", headers={"User-Agent": UA}).status_code == 200
    user.ok("POST", f"/api/links/{link['id']}", {"url": "https://two.example/"})
    assert location() == (307, "https://two.example/")
    user.ok("POST", f"/api/links/{link['id']}", {"slug": "renamed-link"})
    assert location()[0] == 404
    user.ok("DELETE", f"/api/links/{link['id']}")
    user.ok("DELETE", f"/api/pixels/{pixel['id']}")
    assert client.get("/q/renamed-link", headers={"User-Agent": UA}).status_code == 404
    assert client.get("/p/fresh-pixel", headers={"User-Agent": UA}).status_code == 404


def test_another_process_sees_a_change_within_the_ttl(api, client, services, monkeypatch):
    """A second Katsuo process on the same database keeps its own cache: it learns of a change
    when its entry expires, after at most slugs.TTL seconds."""
    import time

    from katsuo.collect import slugs

    monkeypatch.setattr(slugs, "TTL", 0.5)
    other = slugs.SlugCache(services.db)
    user = api.new_user()
    link = user.ok(
        "POST", "/api/links", {"name": "L", "url": "https://one.example/", "slug": "shared-link"}
    )
    assert other.lookup("link", "shared-link").url == "https://one.example/"
    user.ok("POST", f"/api/links/{link['id']}", {"url": "https://two.example/"})
    known, row = other.cached("link", "shared-link")
    assert known and row.url == "https://one.example/"  # stale, within the bound
    time.sleep(0.6)
    assert other.cached("link", "shared-link") == (False, None)
    assert other.lookup("link", "shared-link").url == "https://two.example/"


@pytest.mark.parametrize(
    "path",
    [
        "%00",
        "abc%00def",
        "%00" * 10,
        "x" * 101,
        "%01abc",
        "tab%09slug",
        "%7F",
        "%ED%A0%80",
        "%FF%FE",
        "..%2F..%2Fetc",
        "%E2%80%AE",
    ],
)
@pytest.mark.parametrize("prefix", ["q", "p"])
def test_junk_slugs_are_404_not_500(client, prefix, path):
    response = client.get(f"/{prefix}/{path}", headers={"User-Agent": UA}, follow_redirects=False)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["status"] == 404


def test_send_takes_hits_only_for_a_live_link_or_pixel_of_the_kind_it_names(
    api, client, services, stored, website
):
    """`/api/send` accepts `link` and `pixel` as well as `website`: an id that names no live entity
    of that kind (unknown, a website's, a deleted link's) is a 400 and stores nothing."""
    link_id, pixel_id = uuid.uuid4(), uuid.uuid4()
    _insert(
        services,
        schema.link,
        link_id=link_id,
        name="L",
        url="https://example.com/",
        slug="live-link",
    )
    _insert(services, schema.pixel, pixel_id=pixel_id, name="P", slug="live-pixel")
    headers = {"User-Agent": UA, "X-Forwarded-For": "203.0.113.9"}

    def send(kind: str, entity_id) -> int:
        payload = {kind: str(entity_id), "url": "/x", "hostname": "example.com"}
        return client.post(
            "/api/send", json={"type": "event", "payload": payload}, headers=headers
        ).status_code

    assert send("link", link_id) == 200 and send("pixel", pixel_id) == 200
    assert len(stored("website_event", website_id=link_id)) == 1
    assert len(stored("website_event", website_id=pixel_id)) == 1
    unknown = uuid.uuid4()
    refused = {
        ("link", unknown),
        ("pixel", unknown),
        ("link", website),
        ("pixel", link_id),
        ("link", pixel_id),
    }
    for kind, entity_id in refused:
        assert send(kind, entity_id) == 400, (kind, entity_id)
    assert stored("website_event", website_id=unknown) == []
    assert len(stored("website_event", website_id=website)) == 0
    assert (
        len(stored("website_event", website_id=link_id)) == 1
        and len(stored("website_event", website_id=pixel_id)) == 1
    )
    admin = api.admin()
    admin.ok("DELETE", f"/api/links/{link_id}")
    assert send("link", link_id) == 400
