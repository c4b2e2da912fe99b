"""Website statistics against the independent model: stats (with comparison), pageviews by unit
and zone (with compare), every metrics type, expanded metrics, channels, on both engines and in
every state of the visit slices."""

from __future__ import annotations

import pytest

from tests.analytics import traffic
from tests.analytics.model import at, ms, previous_window

ZONES = [None, "utc", "UTC", "America/New_York", "Asia/Kolkata"]


def expected_stats(model, start, end, filters=None, match="all"):
    return model.totals(model.select(start, end, filters, match=match))


def test_stats_with_comparison(dataset):
    model = dataset.model
    body = dataset.get(dataset.stats_path("stats"), **dataset.range())
    prev_start, prev_end = previous_window(traffic.START, traffic.END)
    assert body == {
        **expected_stats(model, traffic.START, traffic.END),
        "comparison": expected_stats(model, prev_start, prev_end),
    }


@pytest.mark.parametrize(
    "window",
    [
        ("2026-03-06 00:00:00", "2026-03-06 23:59:59.999"),  # one UTC day
        ("2026-03-06 14:30:00", "2026-03-06 16:30:00"),  # half-hour aligned, two hours
        ("2026-03-06 09:10:00.5", "2026-03-06 09:40:00"),  # under an hour, straddling visits
        ("2026-03-01 00:00:00", "2026-03-31 23:59:59.999"),  # the whole month
    ],
)
def test_stats_windows(dataset, window):
    start, end = at(window[0]), at(window[1])
    body = dataset.get(dataset.stats_path("stats"), startAt=ms(start), endAt=ms(end), compare="yoy")
    assert {k: body[k] for k in body if k != "comparison"} == expected_stats(
        dataset.model, start, end
    )
    assert body["comparison"] == {
        "pageviews": 0,
        "visitors": 0,
        "visits": 0,
        "bounces": 0,
        "totaltime": 0,
    }


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("unit", ["hour", "day", "month"])
def test_pageviews(dataset, unit, zone):
    start, end = (
        (at("2026-03-07 20:13:00"), at("2026-03-09 11:00:00"))
        if unit == "hour"
        else (traffic.START, traffic.END)
    )
    body = dataset.get(
        dataset.stats_path("pageviews"), startAt=ms(start), endAt=ms(end), unit=unit, timezone=zone
    )
    views, sessions = dataset.model.series(dataset.model.select(start, end), unit, zone)
    assert body == {"pageviews": views, "sessions": sessions}


def test_pageviews_compare(dataset):
    start, end = traffic.START, traffic.END
    body = dataset.get(
        dataset.stats_path("pageviews"),
        **dataset.range(),
        unit="day",
        timezone="Europe/Berlin",
        compare="prev",
    )
    model = dataset.model
    prev_start, prev_end = previous_window(start, end)
    views, sessions = model.series(model.select(start, end), "day", "Europe/Berlin")
    prev_views, prev_sessions = model.series(
        model.select(prev_start, prev_end), "day", "Europe/Berlin"
    )
    assert body == {
        "pageviews": views,
        "sessions": sessions,
        "startDate": "2026-03-06T09:17:23.456Z",
        "endDate": "2026-03-09T17:42:11.789Z",
        "compare": {
            "pageviews": prev_views,
            "sessions": prev_sessions,
            "startDate": (prev_start).strftime("%Y-%m-%dT%H:%M:%S.") + "456Z",
            "endDate": (prev_end).strftime("%Y-%m-%dT%H:%M:%S.") + "789Z",
        },
    }


def test_unit_upgrades_as_documented(dataset):
    """hour only up to 48 hours: a 3-day range asked by hour comes back by day."""
    body = dataset.get(dataset.stats_path("pageviews"), **dataset.range(), unit="hour")
    views, _ = dataset.model.series(dataset.model.select(traffic.START, traffic.END), "day", None)
    assert body["pageviews"] == views


SESSION_KEYS = {
    "browser": lambda h: h.visitor.browser,
    "os": lambda h: h.visitor.os,
    "device": lambda h: h.visitor.device,
    "screen": lambda h: h.visitor.screen,
    "country": lambda h: h.visitor.country,
    "language": lambda h: h.visitor.language[:2].lower(),
    "distinctId": lambda h: h.visitor.distinct_id,
    "city": lambda h: h.visitor.city,
    "region": lambda h: h.visitor.stored_region,
}
EVENT_KEYS = {
    "path": lambda h: h.path,
    "title": lambda h: h.title,
    "query": lambda h: h.query,
    "hostname": lambda h: h.hostname,
    "tag": lambda h: h.tag,
    "utmSource": lambda h: h.utm("source"),
    "utmMedium": lambda h: h.utm("medium"),
    "utmCampaign": lambda h: h.utm("campaign"),
    "utmContent": lambda h: h.utm("content"),
    "utmTerm": lambda h: h.utm("term"),
}


def ranked(counts: dict, limit=500, offset=0, key="y"):
    rows = [{"x": x, key: y} for x, y in counts.items()]
    rows.sort(key=lambda r: (-r[key], str(r["x"])))
    return rows[offset : offset + limit]


def referrer_key(hit):
    from tests.analytics.model import self_referral

    return None if self_referral(hit) else hit.referrer_domain


@pytest.mark.parametrize(
    "metric", [*SESSION_KEYS, *EVENT_KEYS, "referrer", "domain", "entry", "exit", "event"]
)
def test_metrics(dataset, metric):
    model = dataset.model
    start, end = traffic.START, traffic.END
    views = model.select(start, end)
    if metric in SESSION_KEYS or metric in EVENT_KEYS:
        counts = model.distinct_per(views, (SESSION_KEYS | EVENT_KEYS)[metric])
    elif metric in ("referrer", "domain"):
        counts = model.distinct_per(views, referrer_key)
    elif metric in ("entry", "exit"):
        paths = model.entry_exit(start, end, metric == "entry")
        counts = model.distinct_per(views, lambda h: paths.get(h.visit))
    else:
        customs = model.select(start, end, types="custom")
        counts = {}
        for hit in customs:
            counts[hit.name] = counts.get(hit.name, 0) + 1
    body = dataset.get(dataset.stats_path("metrics"), **dataset.range(), type=metric)
    expected = ranked(counts)
    if metric in ("region", "city"):
        countries = {SESSION_KEYS[metric](h): h.visitor.country for h in views}
        expected = [{**row, "country": countries[row["x"]]} for row in expected]
    assert sorted(body, key=lambda r: (-r["y"], str(r["x"]))) == expected
    # limit and offset page the same ranking
    paged = dataset.get(
        dataset.stats_path("metrics"), **dataset.range(), type=metric, limit=2, offset=1
    )
    assert [r["y"] for r in paged] == [r["y"] for r in expected[1:3]]


def test_metrics_search(dataset):
    model = dataset.model
    views = model.select(traffic.START, traffic.END, {"path": ("c", "DOC")})
    body = dataset.get(dataset.stats_path("metrics"), **dataset.range(), type="path", search="DOC")
    assert sorted(body, key=lambda r: (-r["y"], r["x"])) == ranked(
        model.distinct_per(views, lambda h: h.path)
    )
    views = model.select(traffic.START, traffic.END, {"browser": ("c", "CHROM")})
    body = dataset.get(
        dataset.stats_path("metrics"), **dataset.range(), type="browser", search="CHROM"
    )
    assert sorted(body, key=lambda r: (-r["y"], r["x"])) == ranked(
        model.distinct_per(views, SESSION_KEYS["browser"])
    )


@pytest.mark.parametrize(
    "metric", ["path", "browser", "country", "referrer", "event", "entry", "title"]
)
def test_expanded_metrics(dataset, metric):
    model = dataset.model
    start, end = traffic.START, traffic.END
    if metric == "event":
        hits, key = model.select(start, end, types="custom"), (lambda h: h.name)
    elif metric == "entry":
        paths = model.entry_exit(start, end, True)
        firsts = {}
        for hit in model.select(start, end):
            if paths.get(hit.visit) == hit.path and hit.visit not in firsts:
                firsts[hit.visit] = hit
        hits, key = list(firsts.values()), (lambda h: h.path)
    elif metric == "referrer":
        hits, key = model.select(start, end), referrer_key
    else:
        hits, key = model.select(start, end), (SESSION_KEYS | EVENT_KEYS)[metric]
    expected = model.expanded(hits, key)
    body = dataset.get(dataset.stats_path("metrics/expanded"), **dataset.range(), type=metric)
    assert {row.pop("name"): row for row in body} == expected


def test_channels(dataset):
    """Channels per docs/query-formulas.md#channels; a missing referrer with no query is `direct`
    (the docs' intent; Umami on PostgreSQL drops it)."""
    start, end = traffic.START, traffic.END
    views = dataset.model.select(start, end)

    def channel(hit):
        ref, query, medium = hit.referrer_domain or "", hit.query, hit.utm("medium") or ""
        prefix = (
            "paid"
            if medium.startswith("p") or any(p in medium for p in ("ppc", "retargeting", "paid"))
            else "organic"
        )

        def has(text, needles):
            return any(n.lower() in text.lower() for n in needles)

        if ref == "" and query == "":
            return "direct"
        if has(
            query,
            [
                "ad_id=",
                "aid=",
                "gclid=",
                "fbclid=",
                "msclkid=",
                "utm_medium=cpc",
                "utm_source=google",
            ],
        ):
            return "paidAds"
        if has(medium, ["referral", "app", "link"]):
            return "referral"
        if has(ref, ["google.", "bing.com", "duckduckgo.com"]):
            return prefix + "Search"
        if has(ref, ["t.co", "instagram.com", "reddit.", "news.ycombinator.com"]):
            return prefix + "Social"
        if has(medium, ["mail"]):
            return "email"
        if has(ref, ["youtube."]):
            return prefix + "Video"
        if ref and ref != hit.hostname:
            return "referral"
        return ""

    counts = dataset.model.distinct_per(views, channel)
    body = dataset.get(dataset.stats_path("metrics"), **dataset.range(), type="channel")
    assert sorted(body, key=lambda r: (-r["y"], r["x"])) == ranked(counts)
