"""GET /q/<slug> and /p/<slug>: the hit is recorded under the link / pixel id, then redirect / GIF.
Link and pixel CRUD lives elsewhere, so the rows are inserted directly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from katsuo.store import schema
from tests.collect.conftest import UA


def _insert(services, table, **values):
    with services.db.begin() as conn:
        conn.execute(table.insert().values(created_at=datetime.now(UTC), **values))


def test_short_link_records_and_redirects(client, services, stored):
    link_id = uuid.uuid4()
    _insert(services, schema.link, link_id=link_id, name="Spring", url="https://example.com/landing",
            slug="spring")
    response = client.get("/q/spring?utm_source=mail", headers={"User-Agent": UA, "Referer": "https://news.example.org/x"},
                          follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "https://example.com/landing"
    [event] = stored("website_event", website_id=link_id)
    assert (event["event_type"], event["url_path"], event["url_query"]) == (3, "/q/spring", "utm_source=mail")
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
    _insert(services, schema.link, link_id=link_id, name="L", url="https://example.com/", slug="botty")
    response = client.get("/q/botty", headers={"User-Agent": "curl/8.4.0"}, follow_redirects=False)
    assert response.status_code == 307
    assert stored("website_event", website_id=link_id) == []


def test_unknown_slugs_are_404(client):
    assert client.get("/q/nothing-here", headers={"User-Agent": UA}).status_code == 404
    assert client.get("/p/nothing-here", headers={"User-Agent": UA}).json()["error"]["status"] == 404
