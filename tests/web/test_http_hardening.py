"""The pages' HTTP hardening, without a browser: where a login may send the browser (?next=), the
security headers of pages, the API, static files and the tracker, no inline script or handler in
any page the policy would block, and /api/docs served from Katsuo itself; on both engines."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.web.conftest import cookie_login

# Values of ?next= as the page receives them (after the query string's percent-decoding); a
# browser following any of them would leave the server, or leave BASE_PATH.
HOSTILE_NEXT = [
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "/\\\\evil.example/",
    "\\\\evil.example/",
    "\\/evil.example/",
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/\r\n/evil.example/",
    "/\x00/evil.example/",
    "/\x7f/evil.example/",
    "/ /evil.example/",
    " //evil.example/",
    "\t//evil.example/",
    "https://evil.example/",
    "HTTPS://evil.example/",
    "http:evil.example",
    "https:/evil.example",
    "javascript:alert(1)",
    "data:text/html,hi",
    "evil.example",
    "websites",
    "/..//evil.example/",
    "/websites/../..//evil.example/",
    "/%2e%2e//evil.example/",
    "/%2E./evil.example",
    "/./",
]
# The same, as raw query strings (encoded once, twice, or not at all).
HOSTILE_QUERIES = [
    "next=/%5Cevil.example/",
    "next=/%09/evil.example/",
    "next=%2F%2Fevil.example",
    "next=/%5C%5Cevil",
    "next=https%3A%2F%2Fevil.example",
    "next=/%0A/evil.example",
    "next=/%00/evil.example",
    "next=%09%2F%2Fevil.example",
    "next=/\\evil.example/",
    "next=//evil",
]
FALLBACK = "/websites"


def _login_target(text: str) -> str:
    """What the login page's script follows after a correct login."""
    import json

    found = re.search(r"x-data='login\((.*?)\)'", text)
    assert found, "the login form names no target"
    return json.loads(found.group(1).replace("&#34;", '"').replace("&amp;", "&"))


@pytest.mark.parametrize("value", HOSTILE_NEXT)
def test_login_never_targets_another_site(make_client, value):
    client = make_client()
    page = client.get("/login", params={"next": value})
    assert page.status_code == 200 and _login_target(page.text) == FALLBACK
    cookie_login(client)
    again = client.get("/login", params={"next": value})
    assert again.status_code == 303 and again.headers["location"] == FALLBACK


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_login_never_targets_another_site_from_raw_queries(make_client, query):
    client = make_client()
    assert _login_target(client.get(f"/login?{query}").text) == FALLBACK
    cookie_login(client)
    assert client.get(f"/login?{query}").headers["location"] == FALLBACK


def test_login_keeps_local_targets(make_client):
    client = make_client()
    for target in [
        "/websites?q=blog",
        "/settings/profile",
        "/websites/abc/realtime#top",
        "/share/x%2Fy",
    ]:
        assert _login_target(client.get("/login", params={"next": target}).text) == target


def test_login_targets_stay_under_base_path(make_client):
    client = make_client(base_path="/analytics")
    page = lambda target: _login_target(
        client.get("/analytics/login", params={"next": target}).text
    )
    assert page("/analytics/websites?q=a") == "/analytics/websites?q=a"
    for outside in [
        "/websites",
        "/analytics",
        "/analyticsx/websites",
        "/analytics/../admin",
        "//analytics/x",
    ]:
        assert page(outside) == "/analytics/websites", outside


def test_security_headers_on_pages_api_static_and_tracker(make_client, api):
    website = api.admin().new_website(name="Site", shareId="hardened-slug")
    client = make_client()
    responses = {
        "login page": client.get("/login"),
        "share page": client.get("/share/hardened-slug"),
        "error page": client.get("/share/no-such-slug"),
        "api": client.get("/api/heartbeat"),
        "api error": client.get("/api/websites"),
        "static": client.get("/static/app.js"),
        "tracker": client.get("/script.js"),
        "collect": client.post(
            "/api/send", json={"type": "event", "payload": {"website": website["id"]}}
        ),
        "preflight": client.options("/api/send"),
    }
    for name, response in responses.items():
        assert response.headers.get("x-content-type-options") == "nosniff", name
    for name in ("login page", "share page", "error page"):
        headers = responses[name].headers
        assert headers["content-type"].startswith("text/html"), name
        assert headers["referrer-policy"] == "same-origin", name
        policy = dict(part.split(" ", 1) for part in headers["content-security-policy"].split("; "))
        assert policy["script-src"] == "'self' 'unsafe-eval'", name  # no 'unsafe-inline', no host
        assert policy["frame-ancestors"] == "'self'" and policy["object-src"] == "'none'", name
    # the API and the tracker keep the headers they had
    assert "content-security-policy" not in responses["api"].headers
    assert responses["api"].headers["access-control-allow-origin"] == "*"
    tracker = responses["tracker"].headers
    assert tracker["access-control-allow-origin"] == "*"
    assert tracker["cache-control"] == "public, max-age=86400, must-revalidate"
    assert "referrer-policy" not in tracker


def test_short_link_redirect_keeps_the_visitors_referrer_policy(make_client, api):
    """A Referrer-Policy on the /q/ redirect would change what the link's target learns."""
    admin = api.admin()
    admin.ok(
        "POST", "/api/links", {"name": "L", "url": "https://target.example/", "slug": "hardenlnk"}
    )
    response = make_client().get("/q/hardenlnk")
    assert response.status_code == 307 and "referrer-policy" not in response.headers


class _Inline(HTMLParser):
    """Inline scripts and inline event handlers: what script-src 'self' blocks."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if (
            tag == "script"
            and "src" not in names
            and names.get("type", "text/javascript") in ("text/javascript", "module")
        ):
            self.found.append(f"<script> at {self.getpos()}")
        self.found += [f"{tag} {name}=" for name, _ in attrs if name.startswith("on")]


def test_no_page_has_an_inline_script_or_handler(make_client, api):
    admin = api.admin()
    website = admin.new_website(name="Site", domain="site.example", shareId="inline-slug")
    admin.ok(
        "POST", "/api/links", {"name": "L", "url": "https://target.example/", "slug": "inlinelnk"}
    )
    client = make_client(enable_test_console=True)
    for path in ["/login", "/share/inline-slug", "/share/missing", "/api/docs"]:
        _assert_no_inline_script(client, path)
    cookie_login(client)
    wid = website["id"]
    pages = [
        "/websites",
        f"/websites/{wid}",
        f"/websites/{wid}/realtime",
        f"/websites/{wid}/sessions",
        f"/websites/{wid}/events",
        f"/websites/{wid}/settings",
        f"/websites/{wid}/segments",
        f"/websites/{wid}/reports",
        "/links",
        "/pixels",
        "/settings/profile",
        "/settings/api-keys",
        "/settings/teams",
        "/settings/users",
        f"/console/{wid}",
    ]
    for path in pages:
        _assert_no_inline_script(client, path)


def _assert_no_inline_script(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (200, 404), (path, response.status_code)
    parser = _Inline()
    parser.feed(response.text)
    assert parser.found == [], path


def test_api_docs_load_nothing_from_another_origin(make_client):
    for base in ("", "/analytics"):
        client = make_client(base_path=base)
        page = client.get(f"{base}/api/docs")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "content-security-policy" in page.headers
        urls = re.findall(r'(?:href|src|data-openapi)="([^"]+)"', page.text)
        assert len(urls) == 4 and all(url.startswith(f"{base}/") for url in urls), urls
        for url in urls:
            assert client.get(url).status_code == 200, url
        assert "//" not in re.sub(r"https?://www\.w3\.org", "", page.text)


def test_junk_in_page_parameters_is_a_client_error_on_both_engines(make_client, api):
    """NUL characters (PostgreSQL text cannot hold them) and page numbers past any offset."""
    admin = api.admin()
    website = admin.new_website(name="Site", shareId="junk-slug")["id"]
    admin.ok(
        "POST", "/api/links", {"name": "L", "url": "https://target.example/", "slug": "junklink"}
    )
    client = make_client()
    assert client.get("/share/junk-slug").status_code == 200
    for path in ["/share/junk%00slug", "/share/%00", "/share/" + "x" * 5000]:
        response = client.get(path)
        assert response.status_code in (400, 404) and response.headers["content-type"].startswith(
            "text/html"
        ), path
    for path in ["/q/junk%00link", "/p/%00"]:
        assert client.get(path).status_code == 404, path
    cookie_login(client)
    huge = "99999999999999999999"
    for path in [
        "/websites?q=%00",
        "/websites?q=a%00b",
        f"/websites?p={huge}",
        "/websites?p=0",
        "/websites?p=x",
        "/links?q=%00",
        f"/links?p={huge}",
        "/pixels?q=%00",
        f"/pixels?p={huge}",
        "/settings/users?q=%00",
        f"/settings/users?p={huge}",
        "/teams/%00/websites",
        "/websites/%00",
        f"/websites/{website}/reports/new/%00",
        f"/websites/{website}/sessions/%00",
    ]:
        response = client.get(path)
        assert response.status_code in (400, 404), (path, response.status_code)
        assert response.headers["content-type"].startswith("text/html"), path  # the error page
    # the JSON endpoints among the pages keep the API's error shape
    refused = client.post("/session", json={"token": ""}, headers={"X-Katsuo-CSRF": "1"})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "bad-request"
    # the largest page number accepted still answers
    assert client.get("/websites?p=1000000").status_code == 200
    assert client.get("/websites?q=blog%20post").status_code == 200
