"""The designed traffic of the analytics tests: visitors in several places and time zones, visits
that bounce, span half hours, clock hours, midnight and the New York DST change (2026-03-08
07:00 UTC), straddle the query range's ends, referrers (search, social, self, none), campaigns,
custom events with data, identify calls, a distinct id, and a second batch (`LATER`) that
arrives after the visit slices were built: new visitors, back-dated hits inside settled
visits, and hits at the range's edges."""

from __future__ import annotations

from datetime import timedelta

from tests.analytics.model import Hit, Visitor, at

V = {
    "ny": Visitor(
        "ny",
        "81.2.69.11",
        "chrome",
        "Windows 10",
        "desktop",
        "1920x1080",
        "en-US",
        "US",
        "NY",
        "New York",
    ),
    "berlin": Visitor(
        "berlin",
        "81.2.69.12",
        "safari",
        "Mac OS",
        "laptop",
        "1440x900",
        "de-DE",
        "DE",
        "BE",
        "Berlin",
    ),
    "mumbai": Visitor(
        "mumbai", "81.2.69.13", "ios", "iOS", "mobile", "390x844", "en-IN", "IN", "MH", "Mumbai"
    ),
    "sf": Visitor(
        "sf",
        "81.2.69.14",
        "firefox",
        "Linux",
        "desktop",
        "2560x1440",
        "en-US",
        "US",
        "CA",
        "San Francisco",
    ),
    "saopaulo": Visitor(
        "saopaulo",
        "81.2.69.15",
        "chrome",
        "Android OS",
        "mobile",
        "412x915",
        "pt-BR",
        "BR",
        "SP",
        "Sao Paulo",
    ),
    "london": Visitor(
        "london",
        "81.2.69.16",
        "edge-chromium",
        "Windows 10",
        "laptop",
        "1366x768",
        "en-GB",
        "GB",
        "ENG",
        "London",
        distinct_id="user-6",
    ),
    "austin": Visitor(
        "austin",
        "81.2.69.17",
        "samsung",
        "Android OS",
        "tablet",
        "810x1080",
        "es-US",
        "US",
        "TX",
        "Austin",
    ),
    "nowhere": Visitor(
        "nowhere", "10.1.2.3", "chrome", "Mac OS", "desktop", "1680x1050", "en-US", None, None, None
    ),
    "paris": Visitor(
        "paris", "81.2.69.19", "crios", "iOS", "mobile", "375x667", "fr-FR", "FR", "IDF", "Paris"
    ),
    "tokyo": Visitor(
        "tokyo",
        "81.2.69.20",
        "opera",
        "Windows 7",
        "desktop",
        "1280x720",
        "ja-JP",
        "JP",
        "13",
        "Tokyo",
    ),
    "late": Visitor(
        "late",
        "81.2.69.21",
        "firefox",
        "Windows 10",
        "desktop",
        "1536x864",
        "en-CA",
        "CA",
        "ON",
        "Toronto",
    ),
}

# The range most tests query: ends on neither a half hour nor a second.
START = at("2026-03-06 09:17:23.456")
END = at("2026-03-09 17:42:11.789")


def _visit(
    visitor: Visitor,
    first: str,
    pages: list,
    *,
    step: int = 60,
    referrer: str | None = None,
    website: str = "main",
) -> list[Hit]:
    """Hits `step` seconds apart; a page is a URL or (url, extra Hit fields)."""
    hits = []
    moment = at(first)
    for index, page in enumerate(pages):
        url, extra = (page, {}) if isinstance(page, str) else page
        hits.append(
            Hit(
                visitor,
                moment,
                url,
                title=extra.pop("title", f"Title {url.split('?')[0]}"),
                referrer=referrer if index == 0 else f"https://example.com{hits[-1].url}",
                website=website,
                **extra,
            )
        )
        moment += timedelta(seconds=step)
    return hits


def first_batch() -> list[Hit]:
    hits: list[Hit] = []
    # Straddles the range start (09:17:23.456): three views before it, one after, same visit.
    hits += _visit(
        V["ny"],
        "2026-03-06 09:05:00",
        ["/", "/pricing", "/docs", "/signup"],
        step=300,
        referrer="https://www.google.com/search?q=katsuo",
    )
    # A bounce from a social referrer with a campaign, and a click-id landing.
    hits += _visit(
        V["berlin"],
        "2026-03-06 10:10:10",
        ["/?utm_source=newsletter&utm_medium=email&utm_campaign=spring"],
        referrer="https://t.co/abc",
    )
    hits += _visit(
        V["mumbai"],
        "2026-03-06 11:58:30",
        ["/blog?gclid=xyz", "/blog/post-1", "/pricing"],
        step=45,
        referrer="https://www.bing.com/",
    )
    # Crosses a half hour (10:25 -> 10:35) inside one visit, with custom events and data.
    hits += _visit(
        V["sf"],
        "2026-03-06 14:25:00",
        [
            "/docs",
            (
                "/docs",
                {"name": "copy-code", "data": {"lang": "python", "lines": 12}, "tag": "docs"},
            ),
            "/docs/install",
            ("/docs/install", {"name": "download", "data": {"file": "app.deb"}}),
            "/pricing",
        ],
        step=150,
    )
    # Crosses a clock hour: 15:55 and 16:05 are two visits of one session.
    hits += _visit(
        V["saopaulo"],
        "2026-03-06 15:55:00",
        ["/", "/features"],
        step=120,
        referrer="https://duckduckgo.com/",
    )
    hits += _visit(
        V["saopaulo"],
        "2026-03-06 16:05:00",
        ["/signup", ("/signup", {"name": "signup-click", "data": {"plan": "pro"}})],
        step=30,
    )
    # The distinct-id visitor on two days, direct.
    hits += _visit(V["london"], "2026-03-07 08:00:05", ["/", "/docs", "/docs/api"], step=200)
    hits += _visit(
        V["london"],
        "2026-03-08 21:30:00",
        ["/changelog", "/"],
        step=600,
        referrer="https://news.ycombinator.com/",
    )
    # Around the New York DST change (2026-03-08 07:00 UTC: 02:00 EST becomes 03:00 EDT).
    hits += _visit(
        V["austin"],
        "2026-03-08 06:40:00",
        ["/", "/pricing", "/docs"],
        step=600,
        referrer="https://www.reddit.com/r/x",
    )
    hits += _visit(
        V["austin"],
        "2026-03-08 07:10:00",
        ["/features", ("/features", {"name": "play-video"})],
        step=60,
    )
    # No place at all (private IP), self-referral only, hash in the path.
    hits += _visit(
        V["nowhere"],
        "2026-03-07 23:50:00",
        ["/docs#install", "/docs#usage"],
        step=240,
        referrer="https://example.com/",
    )
    # Midnight UTC and the India half-hour offset (18:30 UTC = local midnight).
    hits += _visit(
        V["mumbai"],
        "2026-03-07 18:20:00",
        ["/blog", "/blog/post-2", "/"],
        step=300,
        referrer="https://instagram.com/p/1",
    )
    hits += _visit(
        V["paris"],
        "2026-03-09 09:00:00",
        [
            "/?utm_source=google&utm_medium=cpc",
            "/pricing",
            "/signup",
            ("/signup", {"name": "signup-click", "data": {"plan": "free"}}),
        ],
        step=90,
        referrer="https://www.google.fr/",
    )
    hits += _visit(
        V["tokyo"], "2026-03-09 12:00:00", ["/status"], referrer="https://www.youtube.com/watch"
    )
    # Straddles the range end (17:42:11.789).
    hits += _visit(
        V["sf"],
        "2026-03-09 17:30:00",
        ["/", "/docs", "/pricing"],
        step=400,
        referrer="https://github.com/",
    )
    # Outside the range: before (the comparison window) and after.
    hits += _visit(
        V["berlin"],
        "2026-03-04 12:00:00",
        ["/", "/pricing"],
        step=100,
        referrer="https://www.google.de/",
    )
    hits += _visit(V["tokyo"], "2026-03-03 20:00:00", ["/"])
    hits += _visit(V["ny"], "2026-03-10 10:00:00", ["/", "/docs"], step=60)
    # Identify calls (session data); they store no event.
    hits.append(
        Hit(V["sf"], at("2026-03-06 14:26:00"), "/docs", identify={"plan": "team", "seats": 5})
    )
    hits.append(Hit(V["london"], at("2026-03-07 08:01:00"), "/", identify={"plan": "pro"}))
    return hits


def later_batch() -> list[Hit]:
    """Written after the slices were built (pending until settled)."""
    hits: list[Hit] = []
    # A new visitor in the middle of the range.
    hits += _visit(
        V["late"],
        "2026-03-07 13:00:00",
        ["/?utm_medium=referral", "/pricing"],
        step=50,
        referrer="https://partner.example.org/",
    )
    # Back-dated: joins the settled sf visit of 2026-03-06 14:xx (touches a settled visit).
    hits += _visit(V["sf"], "2026-03-06 14:45:00", ["/changelog"])
    # Joins the straddling ny visit after the range start, and the end-straddling sf visit.
    hits += _visit(V["ny"], "2026-03-06 09:18:00", ["/blog"])
    hits += _visit(
        V["sf"],
        "2026-03-09 17:41:00",
        ["/status", ("/status", {"name": "download", "data": {"file": "app.dmg"}})],
        step=5,
    )
    # A settled session seen again on a new day (its earlier slices precede the range).
    hits += _visit(V["berlin"], "2026-03-08 10:00:00", ["/docs"], referrer="https://www.google.de/")
    return hits
