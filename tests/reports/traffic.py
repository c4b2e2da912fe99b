"""The designed traffic of the report tests: nine days around the March/April 2026 month boundary
(and the Central European DST change of 2026-03-29 01:00 UTC), visitors on several continents.

Scenarios, each also a trap for a wrong implementation:
* funnel `/` → `/pricing` → event `signup` (30 minutes): anna completes it; ben's `/pricing`
  comes 45 minutes late, then his second try's signup 55 minutes late (drops at step 2 then 3);
  chloe does it backwards; dev completes it across UTC midnight; hiro across a visit (hour)
  boundary; emma's `/pricing` falls after the range end; femi's `/` lies before the range start;
  gus's `/pricing` comes the next day; a custom event's page path also matches a path step.
* revenue in EUR and USD (one sent as lower-case `usd`, one with an unknown code stored as USD),
  first touches from search, social, a click id and a campaign;
* multi-visit sessions converting more than once (attribution: first-click vs last-click), a
  conversion that is the session's first event (no last-click touch), click ids of three networks;
* returning visitors with a distinct id (one session across the month boundary) and without one
  (a new session in April), visits near local midnight in Berlin and Los Angeles;
* campaigns on page views and on a custom event, performance beacons.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.analytics.model import Hit, Visitor, at
from tests.analytics.traffic import _visit

START = at("2026-03-27 00:00:00")
END = at("2026-04-04 23:59:59.999")

V = {
    "anna": Visitor(
        "anna",
        "81.2.70.1",
        "chrome",
        "Windows 10",
        "desktop",
        "1920x1080",
        "de-DE",
        "DE",
        "BE",
        "Berlin",
        distinct_id="anna-1",
    ),
    "ben": Visitor(
        "ben",
        "81.2.70.2",
        "safari",
        "Mac OS",
        "laptop",
        "1440x900",
        "en-US",
        "US",
        "NY",
        "New York",
    ),
    "chloe": Visitor(
        "chloe",
        "81.2.70.3",
        "firefox",
        "Linux",
        "desktop",
        "2560x1440",
        "fr-FR",
        "FR",
        "IDF",
        "Paris",
    ),
    "dev": Visitor(
        "dev", "81.2.70.4", "ios", "iOS", "mobile", "390x844", "en-IN", "IN", "MH", "Mumbai"
    ),
    "emma": Visitor(
        "emma",
        "81.2.70.5",
        "chrome",
        "Mac OS",
        "laptop",
        "1680x1050",
        "en-US",
        "US",
        "CA",
        "San Francisco",
        distinct_id="emma-1",
    ),
    "femi": Visitor(
        "femi",
        "81.2.70.6",
        "chrome",
        "Android OS",
        "mobile",
        "412x915",
        "en-NG",
        "NG",
        "LA",
        "Lagos",
    ),
    "gus": Visitor(
        "gus",
        "81.2.70.7",
        "edge-chromium",
        "Windows 10",
        "desktop",
        "1366x768",
        "pt-BR",
        "BR",
        "SP",
        "Sao Paulo",
    ),
    "hiro": Visitor(
        "hiro",
        "81.2.70.8",
        "safari",
        "iOS",
        "tablet",
        "810x1080",
        "ja-JP",
        "JP",
        "13",
        "Tokyo",
        distinct_id="hiro-1",
    ),
    "ines": Visitor(
        "ines",
        "81.2.70.9",
        "firefox",
        "Windows 10",
        "desktop",
        "1536x864",
        "es-ES",
        "ES",
        "MD",
        "Madrid",
    ),
    "kim": Visitor(
        "kim",
        "81.2.70.10",
        "chrome",
        "Windows 10",
        "laptop",
        "1280x720",
        "ko-KR",
        "KR",
        "11",
        "Seoul",
    ),
}


def signup(plan: str | None = None) -> dict:
    return {"name": "signup", **({"data": {"plan": plan}} if plan else {})}


def purchase(amount, currency: str) -> dict:
    return {"name": "purchase", "data": {"revenue": amount, "currency": currency, "sku": "pro"}}


def hits() -> list[Hit]:
    found: list[Hit] = []
    # anna (distinct id): converts in two visits; a newsletter landing first, Hacker News later.
    found += _visit(
        V["anna"],
        "2026-03-27 10:00:00",
        [
            "/?utm_source=newsletter&utm_medium=email&utm_campaign=spring",
            "/pricing",
            "/signup",
            ("/signup", signup("pro")),
            ("/signup", purchase(49.5, "EUR")),
        ],
        step=300,
        referrer="https://www.google.com/search?q=katsuo",
    )
    found += _visit(
        V["anna"],
        "2026-03-29 09:00:00",
        [
            "/?utm_source=hn&utm_medium=social&utm_content=comment&utm_term=analytics",
            "/signup",
        ],
        step=120,
        referrer="https://news.ycombinator.com/item?id=1",
    )
    found += _visit(V["anna"], "2026-04-01 12:00:00", ["/docs", "/docs/api"], step=90)
    # ben: the funnel's late steps; a second session in April (no distinct id: the salt rotates).
    found += _visit(V["ben"], "2026-03-27 11:00:00", ["/", "/docs"], referrer="https://t.co/x")
    found += _visit(V["ben"], "2026-03-27 11:45:00", ["/pricing"])
    found += _visit(V["ben"], "2026-03-27 12:00:00", ["/", "/pricing"], step=300)
    found += _visit(V["ben"], "2026-03-27 13:00:00", [("/signup", signup())])
    found += _visit(
        V["ben"], "2026-03-31 22:30:00", ["/blog", "/"], step=240
    )  # already April 1 in Berlin
    found += _visit(
        V["ben"],
        "2026-04-02 07:00:00",
        ["/", "/features"],
        step=600,
        referrer="https://www.bing.com/",
    )
    # chloe: the funnel backwards; the signup event happens on /pricing (matches a path step too).
    found += _visit(
        V["chloe"],
        "2026-03-27 09:00:00",
        ["/pricing", ("/pricing", signup()), "/"],
        step=300,
        referrer="https://duckduckgo.com/",
    )
    found += _visit(
        V["chloe"], "2026-03-29 01:30:00", ["/docs/install"]
    )  # in the Berlin DST gap hour
    # dev: completes across UTC midnight after a Facebook ad click; pays in USD.
    found += _visit(
        V["dev"],
        "2026-03-27 23:50:00",
        ["/?fbclid=fb1", "/blog", "/pricing"],
        step=300,
        referrer="https://www.facebook.com/",
    )
    found += _visit(
        V["dev"],
        "2026-03-28 00:10:00",
        [("/pricing", signup()), ("/pricing", purchase("19.99", "USD"))],
        step=300,
    )
    # emma (distinct id): /pricing after the range end; returns on several days, across April 1.
    found += _visit(V["emma"], "2026-03-29 16:00:00", ["/features", "/pricing"], step=60)
    found += _visit(V["emma"], "2026-04-01 06:30:00", ["/docs"])  # March 31 in Los Angeles
    found += _visit(
        V["emma"], "2026-04-02 18:00:00", ["/blog"], referrer="https://www.reddit.com/r/analytics"
    )
    found += _visit(V["emma"], "2026-04-04 23:50:00", ["/", "/pricing"], step=600)
    # femi: `/` just before the range, then /pricing and signup inside it (Microsoft ad click).
    found += _visit(V["femi"], "2026-03-26 23:55:00", ["/"])
    found += _visit(
        V["femi"],
        "2026-03-27 00:05:00",
        ["/pricing?msclkid=ms1", ("/pricing", signup())],
        step=300,
        referrer="https://www.bing.com/",
    )
    # gus: /pricing a day after `/`; a paid campaign; performance beacons.
    found += _visit(
        V["gus"],
        "2026-03-28 15:00:00",
        ["/?utm_source=google&utm_medium=cpc&utm_campaign=brand"],
        referrer="https://www.google.com/",
    )
    found += _visit(V["gus"], "2026-03-29 15:00:00", ["/pricing", "/signup"], step=200)
    # hiro (distinct id): a Google ad landing; the funnel across a visit boundary; pays twice.
    found += _visit(
        V["hiro"],
        "2026-03-30 10:50:00",
        ["/?gclid=g1", "/features"],
        step=300,
        referrer="https://www.google.co.jp/",
    )
    found += _visit(
        V["hiro"],
        "2026-03-30 11:05:00",
        ["/pricing", ("/pricing", signup("free")), ("/pricing", purchase(100, "USD"))],
        step=600,
    )
    found += _visit(V["hiro"], "2026-03-31 09:00:00", ["/docs", "/docs/install"], step=60)
    found += _visit(V["hiro"], "2026-04-02 20:00:00", [("/account", purchase(5, "usd"))])
    # ines: documentation pages (wildcard steps), pays in EUR and with an unknown code.
    found += _visit(
        V["ines"],
        "2026-04-01 08:00:00",
        [
            "/docs/install",
            "/docs/api",
            "/docs",
            ("/docs", purchase(30, "EUR")),
            ("/docs", purchase(7, "XYZ")),
        ],
        step=180,
        referrer="https://github.com/org/repo",
    )
    found += _visit(
        V["ines"], "2026-04-03 08:00:00", ["/docs/api?utm_source=github&utm_medium=referral"]
    )
    # kim: the first event of the session is the conversion itself (a LinkedIn ad click).
    found += _visit(
        V["kim"],
        "2026-04-03 14:00:00",
        [("/signup?li_fat_id=li1&utm_source=linkedin", signup("pro"))],
        referrer="https://www.linkedin.com/feed",
    )
    found += _visit(V["kim"], "2026-04-03 14:30:00", ["/signup"])
    # A campaign on a custom event only (not a page view) and traffic outside the range.
    found += _visit(
        V["gus"],
        "2026-04-03 18:00:00",
        [("/promo?utm_source=ev&utm_medium=evm", {"name": "promo"})],
    )
    found += _visit(V["anna"], "2026-04-06 10:00:00", ["/", "/pricing", "/signup"], step=60)
    found += _visit(V["ben"], "2026-03-20 10:00:00", [("/", purchase(12, "USD"))])
    return found


@dataclass
class Beacon(Hit):
    """A performance beacon (`type: performance`): an event of type 5 with no referrer, query or
    hostname, carrying Web Vitals."""

    metrics: dict = field(default_factory=dict)

    @property
    def event_type(self) -> int:
        return 5


def _beacon(visitor: Visitor, moment: str, url: str, title: str, **metrics) -> Beacon:
    return Beacon(visitor, at(moment), url, title=title, hostname=None, metrics=metrics)


def beacons() -> list[Beacon]:
    return [
        _beacon(
            V["gus"],
            "2026-03-28 15:00:05",
            "/",
            "Home",
            lcp=1200,
            inp=80,
            cls=0.02,
            fcp=900,
            ttfb=200,
        ),
        _beacon(
            V["gus"],
            "2026-03-29 15:00:10",
            "/pricing",
            "Pricing",
            lcp=3100.5,
            inp=240,
            cls=0.12,
            fcp=1500,
            ttfb=650,
        ),
        _beacon(
            V["ines"],
            "2026-04-01 08:00:05",
            "/docs/install",
            "Install",
            lcp=2600,
            inp=150,
            cls=0.3,
            fcp=2000,
            ttfb=900,
        ),
        _beacon(V["ines"], "2026-04-01 08:03:05", "/docs/api", "API", lcp=1800, fcp=1100, ttfb=300),
        _beacon(
            V["dev"],
            "2026-03-27 23:50:04",
            "/",
            "Home",
            lcp=4200,
            inp=520,
            cls=0.01,
            fcp=3100,
            ttfb=1900,
        ),
        _beacon(V["hiro"], "2026-04-06 10:00:00", "/", "Home", lcp=999),  # after the range
    ]
