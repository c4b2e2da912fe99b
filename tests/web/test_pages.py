"""The dashboard over HTTP (no browser): the login cookie and its CSRF rule, DISABLE_LOGIN,
redirects, escaping, role-dependent controls, BASE_PATH and assets, on both engines."""

from __future__ import annotations

import re

from katsuo.auth import browser
from tests.web.conftest import cookie_login

CSRF = {browser.CSRF_HEADER: "1"}


def test_pages_need_a_login_and_send_back_after_it(make_client):
    client = make_client()
    response = client.get("/websites?q=blog")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fwebsites%3Fq%3Dblog"
    # a panel refreshed by htmx after the login ended is sent to the login page as a whole
    hx = client.get("/settings/api-keys", headers={"HX-Request": "true"})
    assert hx.headers["HX-Redirect"].startswith("/login?next=")
    login = client.get("/login?next=%2Fwebsites%3Fq%3Dblog")
    assert login.status_code == 200 and 'login("/websites?q=blog")' in login.text
    # no open redirect to another site
    assert 'login("//evil.example")' not in client.get("/login?next=//evil.example").text


def test_session_cookie_is_http_only_lax_and_authenticates_pages_and_api(make_client):
    client = make_client()
    token = client.post("/api/auth/login", json={"username": "admin", "password": "umami"}).json()[
        "token"
    ]
    assert client.post("/session", json={"token": token}).status_code == 403  # CSRF header missing
    assert client.post("/session", json={"token": "garbage"}, headers=CSRF).status_code == 401
    response = client.post("/session", json={"token": token}, headers=CSRF)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{browser.COOKIE}={token};")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/;" in cookie

    page = client.get("/websites")
    assert page.status_code == 200 and 'data-testid="username">admin<' in page.text
    assert client.get("/api/me").json()["user"]["username"] == "admin"
    assert client.get("/login").status_code == 303  # already logged in


def test_cookie_writes_need_the_csrf_header_and_change_nothing_without_it(make_client):
    client = make_client()
    cookie_login(client)
    refused = client.post("/api/websites", json={"name": "Forged", "domain": "x.example"})
    assert refused.status_code == 403 and browser.CSRF_HEADER in refused.json()["error"]["message"]
    assert client.get("/api/websites").json()["count"] == 0
    created = client.post(
        "/api/websites", json={"name": "Real", "domain": "x.example"}, headers=CSRF
    )
    assert created.status_code == 200
    assert [w["name"] for w in client.get("/api/websites").json()["data"]] == ["Real"]
    # a bearer token is not an ambient credential: no header needed
    token = client.post("/api/auth/login", json={"username": "admin", "password": "umami"}).json()[
        "token"
    ]
    client.cookies.clear()
    bearer = client.post(
        "/api/websites",
        json={"name": "B", "domain": "b.example"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert bearer.status_code == 200


def test_logout_clears_the_cookie(make_client):
    client = make_client()
    cookie_login(client)
    assert client.delete("/session").status_code == 403
    response = client.delete("/session", headers=CSRF)
    assert response.status_code == 200 and "Max-Age=0" in response.headers["set-cookie"]
    assert client.get("/websites").status_code == 303


def test_disable_login_refuses_the_page_but_not_the_api(make_client):
    client = make_client(disable_login=True)
    response = client.get("/login")
    assert response.status_code == 403
    assert response.text == "Access denied" and response.headers["content-type"].startswith(
        "text/plain"
    )
    assert (
        client.post("/api/auth/login", json={"username": "admin", "password": "umami"}).status_code
        == 200
    )


def test_pages_escape_what_users_typed(make_client):
    client = make_client()
    cookie_login(client)
    evil = '<script>alert("x")</script>'
    website = client.post(
        "/api/websites", json={"name": evil, "domain": "evil.example"}, headers=CSRF
    ).json()
    client.post("/api/me/api-keys", json={"name": evil}, headers=CSRF)
    for path in ("/websites", f"/websites/{website['id']}/settings", "/settings/api-keys"):
        html = client.get(path).text
        assert evil not in html, path
        assert "&lt;script&gt;alert(" in html, path
    assert evil not in client.get("/websites", params={"q": evil}).text


def test_tracking_code_uses_the_tracker_script_name(make_client):
    client = make_client(tracker_script_names=("/lib/t.js", "/other.js"))
    cookie_login(client)
    website = client.post(
        "/api/websites", json={"name": "S", "domain": "s.example"}, headers=CSRF
    ).json()
    html = client.get(f"/websites/{website['id']}/settings").text
    assert (
        f'&lt;script defer src="/lib/t.js" data-website-id="{website["id"]}"&gt;&lt;/script&gt;'
        in html
    )


def test_website_settings_show_and_send_the_retention_limit(make_client):
    client = make_client(retention_days=90)
    cookie_login(client)
    website = client.post(
        "/api/websites", json={"name": "R", "domain": "r.example"}, headers=CSRF
    ).json()
    html = client.get(f"/websites/{website['id']}/settings").text
    assert 'name="retentionDays"' in html and 'data-type="number"' in html
    assert 'placeholder="90"' in html and "the server's limit, 90 days" in html
    client.post(f"/api/websites/{website['id']}", json={"retentionDays": 30}, headers=CSRF)
    assert 'value="30"' in client.get(f"/websites/{website['id']}/settings").text


def test_view_only_users_see_no_edit_controls_and_the_api_refuses(api, make_client):
    viewer = api.new_user(role="view-only", password="viewonly-pass")
    client = make_client()
    cookie_login(client, viewer.user["username"], "viewonly-pass")
    html = client.get("/websites").text
    assert "Add website" not in html and "website-create-dialog" not in html
    refused = client.post(
        "/api/websites", json={"name": "No", "domain": "no.example"}, headers=CSRF
    )
    assert refused.status_code == 401
    assert client.get("/settings/users").status_code == 403


def test_other_users_websites_are_not_found(api, make_client):
    owner = api.new_user()
    website = owner.new_website(name="Private")
    other = api.new_user(password="other-pass-1")
    client = make_client()
    cookie_login(client, other.user["username"], "other-pass-1")
    response = client.get(f"/websites/{website['id']}/settings")
    assert response.status_code == 404 and "Private" not in response.text


def test_base_path_prefixes_every_page_and_asset(make_client):
    client = make_client(base_path="/analytics")
    assert (
        client.get("/analytics/websites").headers["location"]
        == "/analytics/login?next=%2Fanalytics%2Fwebsites"
    )
    login = client.get("/analytics/login")
    assert 'data-base="/analytics"' in login.text
    assets = re.findall(r'(?:href|src)="([^"]+)"', login.text)
    assert assets and all(url.startswith("/analytics/static/") for url in assets), assets
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "immutable" in response.headers["cache-control"]
    token = client.post(
        "/analytics/api/auth/login", json={"username": "admin", "password": "umami"}
    ).json()["token"]
    response = client.post("/analytics/session", json={"token": token}, headers=CSRF)
    assert "Path=/analytics/;" in response.headers["set-cookie"]
    page = client.get("/analytics/websites")
    links = re.findall(r'href="(/[^"]*)"', page.text)
    assert links and all(link.startswith("/analytics/") for link in links), links


def test_test_console_needs_the_setting_and_an_administrator(api, make_client):
    website = api.admin().new_website(name="Console target")
    off = make_client()
    cookie_login(off)
    assert off.get(f"/console/{website['id']}").status_code == 404
    on = make_client(enable_test_console=True)
    cookie_login(on)
    assert on.get("/console").headers["location"] == f"/console/{website['id']}"
    page = on.get(f"/console/{website['id']}")
    assert page.status_code == 200
    assert (
        f'<script defer src="/script.js" data-website-id="{website["id"]}"></script>' in page.text
    )
    user = api.new_user(password="console-pass")
    other = make_client(enable_test_console=True)
    cookie_login(other, user.user["username"], "console-pass")
    assert other.get(f"/console/{website['id']}").status_code == 403


def test_share_url_shows_the_dashboard_without_login(api, make_client):
    admin = api.admin()
    website = admin.new_website(name='<script>alert("s")</script>', shareId="public-slug-1")
    client = make_client()  # not logged in
    page = client.get("/share/public-slug-1")
    assert page.status_code == 200
    assert (
        "&lt;script&gt;alert(&#34;s&#34;)&lt;/script&gt;" in page.text
        and '<script>alert("s")' not in page.text
    )
    assert (
        f'"websiteId": "{website["id"]}"' in page.text and '"share": "public-slug-1"' in page.text
    )
    assert "Log out" not in page.text and "Save as segment" not in page.text
    assert client.get("/share/no-such-slug").status_code == 404
    admin.ok("POST", f"/api/websites/{website['id']}", {"shareId": None})
    assert client.get("/share/public-slug-1").status_code == 404


def test_overview_shell_paints_without_querying_statistics(api, make_client):
    website = api.admin().new_website(name="Numbers")
    client = make_client()
    cookie_login(client)
    page = client.get(f"/websites/{website['id']}")
    assert page.status_code == 200
    assert (
        'data-testid="stats"' in page.text
        and "dashboard.js" in page.text
        and "chart.umd.min.js" in page.text
    )
    # the page's libraries and modules (deferred too, run in document order) load before Alpine
    # starts, so their components exist when it does
    scripts = re.findall(r'<script (?:defer|type="module") src="/static/([^"?]+)', page.text)
    assert scripts.index("dashboard.js") < scripts.index("vendor/alpine.min.js")
    for tab, component in (
        ("realtime", "realtime("),
        ("sessions", "activityList("),
        ("events", "activityList("),
    ):
        response = client.get(f"/websites/{website['id']}/{tab}")
        assert response.status_code == 200 and component in response.text, tab
        assert f'href="/websites/{website["id"]}/{tab}" aria-current="page"' in response.text
    stranger = api.new_user(password="stranger-pass")
    other = make_client()
    cookie_login(other, stranger.user["username"], "stranger-pass")
    for tab in ("", "/realtime", "/sessions", "/events"):
        assert other.get(f"/websites/{website['id']}{tab}").status_code == 404


def test_logging_out_ends_a_redis_backed_login(redis_url, tmp_path):
    """With REDIS_URL the cookie holds a token naming a Redis key; the page's logout deletes it,
    so a copy of the cookie is worthless afterwards."""
    import redis
    from fastapi.testclient import TestClient

    from katsuo.app import create_app
    from katsuo.config import Settings
    from katsuo.services import Services

    redis.Redis.from_url(redis_url).flushdb()  # failed-login counts of other tests live there too
    settings = Settings.from_env(
        {"APP_SECRET": "s", "KATSUO_DATA_DIR": str(tmp_path), "REDIS_URL": redis_url}
    )
    services = Services.start(settings)
    try:
        with TestClient(create_app(settings, services)) as client:
            token = cookie_login(client)
            assert client.get("/websites", follow_redirects=False).status_code == 200
            assert client.post("/api/auth/logout", headers=CSRF).status_code == 200
            assert client.delete("/session", headers=CSRF).status_code == 200
            client.cookies.set(browser.COOKIE, token)  # someone kept a copy
            assert client.get("/websites", follow_redirects=False).status_code == 303
            assert client.get("/api/me").status_code == 401
    finally:
        services.close()


def test_report_pages_are_found_only_for_their_website_and_show_controls_by_role(api, make_client):
    owner = api.new_user(password="owner-pass-1")
    website = owner.new_website(name="Reports")
    other_site = owner.new_website(name="Other")
    report = owner.ok(
        "POST",
        "/api/reports",
        {
            "websiteId": website["id"],
            "type": "funnel",
            "name": '<script>alert("r")</script>',
            "parameters": {
                "steps": [{"type": "path", "value": "/"}, {"type": "path", "value": "/b"}],
                "window": 60,
            },
        },
    )
    client = make_client()
    cookie_login(client, owner.user["username"], "owner-pass-1")
    listing = client.get(f"/websites/{website['id']}/reports")
    assert listing.status_code == 200
    assert (
        "&lt;script&gt;alert(&#34;r&#34;)&lt;/script&gt;" in listing.text
        and '<script>alert("r")' not in listing.text
    )
    for report_type in (
        "breakdown",
        "funnel",
        "goal",
        "journey",
        "retention",
        "revenue",
        "utm",
        "attribution",
    ):
        page = client.get(f"/websites/{website['id']}/reports/new/{report_type}")
        assert (
            page.status_code == 200 and "reports.js" in page.text and "Save report" in page.text
        ), report_type
    saved = client.get(f"/websites/{website['id']}/reports/{report['id']}")
    assert (
        saved.status_code == 200
        and '<script>alert("r")' not in saved.text
        and ">Delete<" in saved.text.replace("</svg>", ">")
    )
    assert client.get(f"/websites/{website['id']}/reports/new/nonsense").status_code == 404
    assert (
        client.get(f"/websites/{other_site['id']}/reports/{report['id']}").status_code == 404
    )  # another website's
    assert client.get(f"/websites/{website['id']}/reports/not-a-uuid").status_code == 400
    # someone who may not see the website gets 404 for its reports
    stranger = api.new_user(password="stranger-pass-2")
    other = make_client()
    cookie_login(other, stranger.user["username"], "stranger-pass-2")
    assert other.get(f"/websites/{website['id']}/reports").status_code == 404
    assert other.get(f"/websites/{website['id']}/reports/{report['id']}").status_code == 404


def test_visitor_link_and_pixel_pages(api, make_client):
    owner = api.new_user(password="owner-pass-3")
    website = owner.new_website(name="Visits")
    link = owner.ok(
        "POST",
        "/api/links",
        {"name": "Launch", "url": "https://example.com/", "slug": "launch-page"},
    )
    pixel = owner.ok("POST", "/api/pixels", {"name": "Mail", "slug": "mail-pixel"})
    client = make_client()
    cookie_login(client, owner.user["username"], "owner-pass-3")
    session_id = "0f0e0d0c-0b0a-4908-8706-050403020100"
    page = client.get(f"/websites/{website['id']}/sessions/{session_id}")
    assert page.status_code == 200 and "visitorProfile(" in page.text
    for path, slug in (
        (f"/links/{link['id']}", "/q/launch-page"),
        (f"/pixels/{pixel['id']}", "/p/mail-pixel"),
    ):
        page = client.get(path)
        assert (
            page.status_code == 200 and slug in page.text and "Save as segment" not in page.text
        ), path
    stranger = api.new_user(password="stranger-pass-3")
    other = make_client()
    cookie_login(other, stranger.user["username"], "stranger-pass-3")
    assert other.get(f"/links/{link['id']}").status_code == 404
    assert other.get(f"/pixels/{pixel['id']}").status_code == 404
    assert other.get(f"/websites/{website['id']}/sessions/{session_id}").status_code == 404


def test_changing_the_password_on_the_profile_page_keeps_that_browser_logged_in(api, make_client):
    """The profile page posts to /api/me/password with the cookie: the change ends the user's
    other logins, and the answer carries a new login cookie for this browser."""
    user = api.new_user(password="profile-pass-1")
    elsewhere = api.login(user.user["username"], "profile-pass-1")  # another device
    client = make_client()
    old_token = cookie_login(client, user.user["username"], "profile-pass-1")
    assert "url: '/api/me/password'" in client.get("/settings/profile").text
    changed = client.post(
        "/api/me/password",
        headers=CSRF,
        json={"currentPassword": "profile-pass-1", "newPassword": "profile-pass-2"},
    )
    assert changed.status_code == 200
    cookie = changed.headers["set-cookie"]
    assert cookie.startswith(f"{browser.COOKIE}=") and "HttpOnly" in cookie
    assert client.cookies.get(browser.COOKIE) != old_token
    assert client.get("/settings/profile").status_code == 200
    assert client.get("/api/me").json()["user"]["id"] == user.user["id"]
    assert elsewhere.get("/api/me").status_code == 401
    client.cookies.clear()
    client.cookies.set(browser.COOKIE, old_token)  # a copy of the old cookie is worthless
    assert client.get("/api/me").status_code == 401
    assert client.get("/settings/profile").status_code == 303


def test_team_pages_show_the_access_code_only_to_owners_managers_and_admins(api, make_client):
    owner, viewer, member = (api.new_user(password="team-pass-1") for _ in range(3))
    team = owner.new_team("Crew")
    owner.add_member(team["id"], viewer, "team-view-only")
    owner.add_member(team["id"], member, "team-member")
    for who, shown in ((owner, True), (viewer, False), (member, False)):
        client = make_client()
        cookie_login(client, who.user["username"], "team-pass-1")
        for path in ("/settings/teams", f"/settings/teams/{team['id']}", "/websites"):
            page = client.get(path)
            assert page.status_code == 200 and "Crew" in page.text
            if path.endswith(team["id"]):
                assert ('data-testid="access-code"' in page.text) is shown
            assert (team["accessCode"] in page.text) is (shown and path.endswith(team["id"])), (
                who.user,
                path,
            )
