"""POST /api/send against the real app on both engines: what is stored, and what is refused."""

from __future__ import annotations

import uuid

import jwt
import pytest

from tests.collect.conftest import UA, send
from tests.conftest import APP_SECRET


def test_page_view_rows(client, website, stored):
    response = send(
        client,
        {
            "website": website,
            "hostname": "www.example.com",
            "language": "en-US",
            "screen": "1920x1080",
            "url": "https://www.example.com/pricing/?utm_source=news&gclid=abc#plans",
            "referrer": "https://www.google.com/search?q=x",
            "title": "Pricing%20page",
            "tag": "b",
        },
        headers={
            "X-Forwarded-For": "203.0.113.9",
            "CF-IPCountry": "US",
            "CF-Region-Code": "CA",
            "CF-IPCity": "Mountain View",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"cache", "sessionId", "visitId"}
    [event] = stored("website_event", website_id=uuid.UUID(website))
    assert (
        str(event["session_id"]) == body["sessionId"] and str(event["visit_id"]) == body["visitId"]
    )
    assert event["event_type"] == 1 and event["event_name"] is None
    assert event["url_path"] == "/pricing/#plans"
    assert event["url_query"] == "utm_source=news&gclid=abc"
    assert (event["utm_source"], event["gclid"], event["utm_medium"]) == ("news", "abc", None)
    assert (event["referrer_domain"], event["referrer_path"], event["referrer_query"]) == (
        "google.com",
        "/search",
        "q=x",
    )
    assert event["page_title"] == "Pricing page"
    assert event["hostname"] == "www.example.com"  # a sent hostname is kept verbatim
    assert event["tag"] == "b"
    [session] = stored("session", session_id=uuid.UUID(body["sessionId"]))
    assert (session["browser"], session["os"], session["device"]) == (
        "chrome",
        "Windows 10",
        "laptop",
    )
    assert (session["country"], session["region"], session["city"]) == (
        "US",
        "US-CA",
        "Mountain View",
    )
    assert (session["screen"], session["language"]) == ("1920x1080", "en-US")


def test_custom_event_with_data_and_revenue(client, website, stored):
    body = send(
        client,
        {
            "website": website,
            "url": "/checkout",
            "name": "purchase",
            "data": {"revenue": "19.99", "currency": "eur", "cart": {"items": 2}},
        },
    ).json()
    [event] = stored("website_event", website_id=uuid.UUID(website))
    assert (event["event_type"], event["event_name"]) == (2, "purchase")
    data = {
        row["data_key"]: row for row in stored("event_data", website_event_id=event["event_id"])
    }
    assert set(data) == {"revenue", "currency", "cart.items"}
    assert (data["cart.items"]["data_type"], data["cart.items"]["string_value"]) == (2, "2.0000")
    [revenue] = stored("revenue", event_id=event["event_id"])
    assert (revenue["currency"], float(revenue["revenue"]), revenue["event_name"]) == (
        "eur",
        19.99,
        "purchase",
    )
    assert str(revenue["session_id"]) == body["sessionId"]


def test_unknown_currency_is_stored_as_usd(client, website, stored):
    send(client, {"website": website, "name": "buy", "data": {"revenue": 5, "currency": "DOGE"}})
    [revenue] = stored("revenue", website_id=uuid.UUID(website))
    assert revenue["currency"] == "USD"


def test_identify_upserts_session_data_and_writes_no_event(client, website, stored):
    first = send(
        client,
        {"website": website, "id": "user-42", "data": {"plan": "free", "age": 30}},
        type="identify",
    ).json()
    send(client, {"website": website, "id": "user-42", "data": {"plan": "pro"}}, type="identify")
    assert stored("website_event", website_id=uuid.UUID(website)) == []
    rows = {
        r["data_key"]: r for r in stored("session_data", session_id=uuid.UUID(first["sessionId"]))
    }
    assert set(rows) == {"plan", "age"}
    assert rows["plan"]["string_value"] == "pro" and rows["age"]["string_value"] == "30.0000"
    assert rows["plan"]["distinct_id"] == "user-42"
    [session] = stored("session", session_id=uuid.UUID(first["sessionId"]))
    assert session["distinct_id"] == "user-42"


def test_performance_beacon(client, website, stored):
    send(
        client,
        {
            "website": website,
            "url": "https://example.com/a/b?x=1#h",
            "lcp": 1200.5,
            "cls": 0.05,
            "ttfb": 80,
            "duration": 999,
        },
        type="performance",
    )
    [event] = stored("website_event", website_id=uuid.UUID(website))
    assert (event["event_type"], event["url_path"], event["hostname"]) == (5, "/a/b", None)
    assert (float(event["lcp"]), float(event["cls"]), float(event["ttfb"]), event["inp"]) == (
        1200.5,
        0.05,
        80.0,
        None,
    )


def test_cache_token_claims_and_reuse(client, website, stored):
    first = send(client, {"website": website, "url": "/a"}).json()
    claims = jwt.decode(
        first["cache"],
        __import__("hashlib").sha512(APP_SECRET.encode()).hexdigest(),
        algorithms=["HS256"],
    )
    assert claims["websiteId"] == website and claims["sessionId"] == first["sessionId"]
    assert claims["visitId"] == first["visitId"] and "exp" not in claims
    second = send(
        client, {"website": website, "url": "/b"}, headers={"x-umami-cache": first["cache"]}
    ).json()
    assert second["visitId"] == first["visitId"] and second["sessionId"] == first["sessionId"]
    assert len(stored("website_event", website_id=uuid.UUID(website))) == 2
    assert len(stored("session", website_id=uuid.UUID(website))) == 1


def test_distinct_id_gives_one_session_across_devices(client, website):
    a = send(
        client, {"website": website, "id": "bob"}, headers={"X-Forwarded-For": "203.0.113.1"}
    ).json()
    b = send(
        client,
        {"website": website, "id": "bob"},
        headers={
            "X-Forwarded-For": "198.51.100.1",
            "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        },
    ).json()
    assert a["sessionId"] == b["sessionId"]


def test_timestamp_backdates_the_hit(client, website, stored):
    send(client, {"website": website, "url": "/old", "timestamp": "1700000000"})
    [event] = stored("website_event", website_id=uuid.UUID(website))
    assert int(event["created_at"].timestamp()) == 1700000000


BAD_BODIES = [
    (b"not json", "body"),
    (b"[]", "body"),
    (b'{"type":"event"}', "payload"),
    (b'{"type":"click","payload":{"website":"%s"}}', "type"),
    (b'{"type":"event","payload":{"website":"not-a-uuid"}}', "payload.website"),
    (b'{"type":"event","payload":{}}', "payload.website"),
    (b'{"type":"event","payload":{"website":"%s","name":"' + b"n" * 51 + b'"}}', "payload.name"),
    (b'{"type":"event","payload":{"website":"%s","screen":123}}', "payload.screen"),
    (b'{"type":"event","payload":{"website":"%s","data":[1,2]}}', "payload.data"),
    (b'{"type":"event","payload":{"website":"%s","timestamp":"soon"}}', "payload.timestamp"),
    (b'{"type":"event","payload":{"website":"%s","timestamp":1e30}}', "payload.timestamp"),
    (b'{"type":"event","payload":{"website":"%s","id":"' + b"i" * 51 + b'"}}', "payload.id"),
    (
        b'{"type":"event","payload":{"website":"%s","browser":"' + b"b" * 21 + b'"}}',
        "payload.browser",
    ),
    (b'{"type":"performance","payload":{"website":"%s","lcp":-1}}', "payload.lcp"),
    (b'{"type":"event","payload":{"website":"%s","url":"https://h:99999/"}}', "payload.url"),
]


@pytest.mark.parametrize(("raw", "field"), BAD_BODIES)
def test_bad_bodies_get_400_naming_the_field_and_store_nothing(client, website, stored, raw, field):
    body = raw.replace(b"%s", website.encode()) if b"%s" in raw else raw
    response = client.post(
        "/api/send", content=body, headers={"User-Agent": UA, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "bad-request" and field in error["message"]
    assert stored("website_event", website_id=uuid.UUID(website)) == []
    assert stored("session", website_id=uuid.UUID(website)) == []


def test_unknown_website_is_400(client):
    response = send(client, {"website": str(uuid.uuid4())})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Website not found."


def test_missing_user_agent_is_400(client, website, stored):
    response = client.post(
        "/api/send",
        json={"type": "event", "payload": {"website": website}},
        headers={"User-Agent": ""},
    )
    assert response.status_code == 400 and "User-Agent" in response.json()["error"]["message"]
    assert stored("website_event", website_id=uuid.UUID(website)) == []


def test_bots_get_beep_boop_and_nothing_is_stored(client, website, stored):
    response = send(
        client,
        {"website": website},
        headers={
            "User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        },
    )
    assert (response.status_code, response.json()) == (200, {"beep": "boop"})
    assert stored("website_event", website_id=uuid.UUID(website)) == []


def test_disable_bot_check_stores_bots(client_with, website, stored):
    client = client_with(DISABLE_BOT_CHECK="1")
    assert (
        send(client, {"website": website}, headers={"User-Agent": "curl/8.4.0"}).status_code == 200
    )
    [session] = stored("session", website_id=uuid.UUID(website))
    assert session["browser"] == "curl"


def test_ignore_ip_is_403_for_addresses_and_ranges(client_with, website, stored):
    client = client_with(IGNORE_IP="192.0.2.7,10.9.0.0/16,2001:db8::/32")
    for ip in ("192.0.2.7", "10.9.3.4", "2001:db8::42"):
        response = send(client, {"website": website}, headers={"X-Forwarded-For": ip})
        assert response.status_code == 403, ip
        assert response.json()["error"]["code"] == "forbidden"
    assert stored("website_event", website_id=uuid.UUID(website)) == []
    assert (
        send(client, {"website": website}, headers={"X-Forwarded-For": "192.0.2.8"}).status_code
        == 200
    )


def test_remove_trailing_slash(client_with, website, stored):
    client = client_with(REMOVE_TRAILING_SLASH="1")
    send(client, {"website": website, "url": "/docs/#top"})
    [event] = stored("website_event", website_id=uuid.UUID(website))
    assert event["url_path"] == "/docs#top"


def test_collect_endpoint_alias_and_its_preflight(client_with, website, stored):
    client = client_with(COLLECT_API_ENDPOINT="/my-hits")
    assert send(client, {"website": website}, path="/my-hits").status_code == 200
    preflight = client.options(
        "/my-hits",
        headers={"Origin": "https://example.com", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert send(client, {"website": website}).status_code == 200  # /api/send still works
    assert len(stored("website_event", website_id=uuid.UUID(website))) == 2


def test_cors_headers_on_send(client, website):
    response = send(client, {"website": website})
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-max-age"] == "86400"


def test_other_methods_on_the_collect_paths_answer_as_the_rest_of_the_api(client):
    """POSTs to the collect paths skip the app's middleware stack (app.KatsuoApp); anything else
    on them still goes through it."""
    response = client.get("/api/send", headers={"User-Agent": UA})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method-not-allowed"
    assert response.headers["access-control-allow-origin"] == "*"


def test_an_unexpected_error_while_collecting_is_a_json_500(
    client, services, website, monkeypatch, caplog
):
    async def broken(body, headers):
        raise RuntimeError("collector broke")

    monkeypatch.setattr(services.collector, "send", broken)
    response = send(client, {"website": website})
    assert response.status_code == 500
    assert response.json() == {
        "error": {"message": "Server error", "code": "server-error", "status": 500}
    }
    assert response.headers["access-control-allow-origin"] == "*"
    assert "collector broke" in caplog.text


def test_send_under_an_asgi_root_path(app, website, stored):
    from fastapi.testclient import TestClient

    with TestClient(app, root_path="/proxy") as proxied:
        assert (
            send(
                proxied, {"website": website, "url": "/via-proxy"}, path="/proxy/api/send"
            ).status_code
            == 200
        )
    [event] = stored("website_event", website_id=uuid.UUID(website))
    assert event["url_path"] == "/via-proxy"


def test_a_body_over_the_limit_is_refused_and_stores_nothing(client, website, stored):
    huge = {
        "type": "event",
        "payload": {"website": website, "url": "/big", "title": "x" * (1 << 20)},
    }
    response = client.post("/api/send", json=huge, headers={"User-Agent": UA})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload-too-large"
    assert response.headers["access-control-allow-origin"] == "*"
    assert stored("website_event", website_id=uuid.UUID(website)) == []


def test_batch(client, website, stored):
    items = [
        {"type": "event", "payload": {"website": website, "url": "/1"}},
        {"type": "nope", "payload": {"website": website}},
        {"type": "event", "payload": {"website": website, "url": "/2", "name": "go"}},
    ]
    response = client.post("/api/batch", json=items, headers={"User-Agent": UA})
    body = response.json()
    assert (body["size"], body["processed"], body["errors"]) == (3, 2, 1)
    assert body["details"][0]["index"] == 1 and "cache" in body
    assert sorted(
        e["url_path"] for e in stored("website_event", website_id=uuid.UUID(website))
    ) == ["/1", "/2"]
    assert (
        client.post("/api/batch", json={"type": "event"}, headers={"User-Agent": UA}).status_code
        == 400
    )


def test_reset_website_lets_returning_visitors_get_a_session_again(api, client, website, stored):
    first = send(client, {"website": website, "url": "/a"}).json()
    api.admin().ok("POST", f"/api/websites/{website}/reset")
    assert stored("session", website_id=uuid.UUID(website)) == []
    again = send(client, {"website": website, "url": "/b"}).json()
    assert again["sessionId"] == first["sessionId"]
    assert len(stored("session", website_id=uuid.UUID(website))) == 1


def test_returning_visitor_without_a_token_keeps_its_first_session_row(client, website, stored):
    """No cache token (a server-side client): the second hit maps to the stored session, whose
    row stays as the first hit made it, while both events are stored."""
    headers = {"X-Forwarded-For": "203.0.113.21"}
    first = send(
        client,
        {"website": website, "url": "/1", "screen": "1920x1080", "language": "en-US"},
        headers=headers,
    ).json()
    assert len(stored("session", website_id=uuid.UUID(website))) == 1  # read: the first is stored
    second = send(
        client,
        {"website": website, "url": "/2", "screen": "390x844", "language": "de-DE"},
        headers=headers,
    ).json()
    assert second["sessionId"] == first["sessionId"]
    [session] = stored("session", website_id=uuid.UUID(website))
    assert (session["screen"], session["language"]) == ("1920x1080", "en-US")
    events = stored("website_event", website_id=uuid.UUID(website))
    assert sorted(e["url_path"] for e in events) == ["/1", "/2"]
    assert {str(e["session_id"]) for e in events} == {first["sessionId"]}


def test_deleted_website_stops_collecting(api, client, website):
    assert send(client, {"website": website}).status_code == 200
    api.admin().delete(f"/api/websites/{website}")
    assert send(client, {"website": website}).status_code == 400
