"""The known traffic of the analytics screens' tests: a team website, an administrator, a team
member and a view-only member, four visitors sent through /api/send with CDN geo headers and a
fifth who loads a real page carrying the tracking code. Every expected number is counted here
from what was sent, never read back from the server."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx

from tests.e2e.conftest import new_context, tracker_page, wait_until
from tests.helpers import Api

EVIL = '<script>alert("pwned")</script>'
PASSWORD = "traffic-pass-1"


@dataclass
class Visitor:
    ip: str
    user_agent: str
    country: str
    region: str
    city: str
    language: str
    screen: str
    # (kind, value, extra): ("view", path, referrer) or ("event", name, data)
    hits: list[tuple[str, str, object]] = field(default_factory=list)


CHROME_WIN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:125.0) Gecko/20100101 Firefox/125.0"
SAFARI_IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
CHROME_LINUX = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36"

VISITORS = [
    Visitor(
        "203.0.113.1",
        CHROME_WIN,
        "DE",
        "BE",
        "Berlin",
        "de-DE",
        "1920x1080",
        [
            ("view", "/", "https://www.google.com/search?q=shop"),
            ("view", "/pricing", None),
            ("event", "signup", {"plan": "pro"}),
        ],
    ),
    Visitor(
        "203.0.113.2",
        FIREFOX_MAC,
        "US",
        "CA",
        "San Francisco",
        "en-US",
        "1440x900",
        [
            ("view", "/", "https://news.ycombinator.com/"),
            ("view", "/blog/launch", None),
        ],
    ),
    Visitor(
        "203.0.113.3",
        SAFARI_IPHONE,
        "GB",
        "ENG",
        "London",
        "en-GB",
        "390x844",
        [
            ("view", "/pricing", None),
            ("event", "signup", {"plan": "free"}),
            ("event", "purchase", {"revenue": 50, "currency": "USD"}),
        ],
    ),
    Visitor(
        "203.0.113.4",
        CHROME_LINUX,
        "FR",
        "IDF",
        "Paris",
        "fr-FR",
        "1366x768",
        [
            ("view", "/?utm_source=newsletter&utm_medium=email", None),
        ],
    ),
]

# Someone who came eight days ago: outside "Last 7 days", inside the period before it.
EARLIER = Visitor(
    "203.0.113.9", FIREFOX_MAC, "US", "NY", "New York", "en-US", "1440x900", [("view", "/", None)]
)
EARLIER_DAYS_AGO = 8


@dataclass
class Shop:
    """What the tests of one module share: the live server, the people, the website, and what
    was sent to it (the expectations)."""

    server: object
    admin: Api
    member: Api
    viewer: Api
    team: dict
    website: dict
    browser_visit_path: str = "/evil"

    @property
    def website_id(self) -> str:
        return self.website["id"]

    # What was sent, counted.
    @property
    def pageviews(self) -> int:
        return (
            sum(kind == "view" for v in VISITORS for kind, *_ in v.hits) + 1
        )  # + the browser visit

    @property
    def visitors(self) -> int:
        return len(VISITORS) + 1

    @staticmethod
    def views_of(path: str) -> int:
        return sum(
            kind == "view" and value.split("?")[0] == path
            for v in VISITORS
            for kind, value, _ in v.hits
        )

    @staticmethod
    def visitors_in(country: str) -> int:
        return sum(v.country == country for v in VISITORS)


def send_known_traffic(http: httpx.Client, website_id: str, hostname: str = "shop.test") -> None:
    """Each visitor's hits through /api/send, about an hour ago, a few seconds apart (EARLIER's
    days ago)."""
    now = int(time.time())
    # An hour ago, but today (UTC), where the tests look for "today's" visitors; and moved forward
    # to the next full hour when the hits would straddle one: a visit id depends on the hour of
    # the hit, so a visitor's hits must share an hour to be one visit.
    recent, midnight = now - 3600, now - now % 86400
    if recent < midnight:
        recent = midnight
    elif (recent + len(VISITORS) * 60) // 3600 != recent // 3600:
        recent = -(-recent // 3600) * 3600
    for n, visitor in enumerate([*VISITORS, EARLIER]):
        start = recent if visitor is not EARLIER else now - EARLIER_DAYS_AGO * 86400 - (n * 60)
        headers = {
            "User-Agent": visitor.user_agent,
            "X-Forwarded-For": visitor.ip,
            "cf-ipcountry": visitor.country,
            "cf-region-code": visitor.region,
            "cf-ipcity": visitor.city,
        }
        last_url = None
        for i, (kind, value, extra) in enumerate(visitor.hits):
            payload = {
                "website": website_id,
                "hostname": hostname,
                "language": visitor.language,
                "screen": visitor.screen,
                "timestamp": start + n * 60 + i * 10,
            }
            if kind == "view":
                payload.update(url=value, title=f"Shop {value.split('?')[0]}")
                if extra:
                    payload["referrer"] = extra
                last_url = value
            else:
                payload.update(url=last_url, name=value, data=extra)
            response = http.post(
                "/api/send", json={"type": "event", "payload": payload}, headers=headers
            )
            assert response.status_code == 200, response.text


def visit_tracked_page(chromium, site, server_url: str, website_id: str, path: str) -> None:
    """A real visitor: a page with the tracking code, an EVIL title, an event named EVIL, and
    identified with an EVIL company."""
    url = site.add(path, tracker_page(f"{server_url}/script.js", website_id, title=EVIL))
    ctx = new_context(chromium)
    try:
        page = ctx.new_page()
        with page.expect_response(lambda r: r.url.endswith("/api/send")):
            page.goto(url)
        with page.expect_response(lambda r: r.url.endswith("/api/send")):
            page.evaluate("name => umami.track(name, {source: 'test'})", EVIL)
        with page.expect_response(lambda r: r.url.endswith("/api/send")):
            page.evaluate("name => umami.identify({company: name})", EVIL)
    finally:
        ctx.close()


def build_shop(server, chromium, site) -> Shop:
    http = httpx.Client(base_url=server.url, timeout=30)
    anonymous = Api(http)
    admin = anonymous.login()
    for username, role in (("member", "user"), ("viewer", "view-only")):
        admin.ok("POST", "/api/users", {"username": username, "password": PASSWORD, "role": role})
    member, viewer = anonymous.login("member", PASSWORD), anonymous.login("viewer", PASSWORD)
    team = admin.new_team("Shop team")
    admin.add_member(team["id"], member, "team-member")
    admin.add_member(team["id"], viewer, "team-view-only")
    website = admin.new_website(name="Shop", domain="shop.test", teamId=team["id"])
    send_known_traffic(http, website["id"])
    visit_tracked_page(chromium, site, server.url, website["id"], "/evil")
    shop = Shop(server, admin, member, viewer, team, website)
    wait_until(
        lambda: (
            admin.ok("GET", f"/api/websites/{website['id']}/stats", params=_last_day())["pageviews"]
            == shop.pageviews
        ),
        what="the traffic to be counted",
    )
    return shop


def _last_day() -> dict:
    now = int(time.time() * 1000)
    return {"startAt": now - 86_400_000, "endAt": now}
