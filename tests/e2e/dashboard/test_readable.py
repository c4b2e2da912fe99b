"""The dashboard as a person reads it (issue 19), in Chromium over the shop's known traffic
(traffic.py): values shown by name and filters that take those names."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.e2e.dashboard.test_overview import card, row
from tests.e2e.dashboard.traffic import SAFARI_IPHONE, VISITORS


def last_day() -> dict:
    now = int(time.time() * 1000)
    return {"startAt": now - 86_400_000, "endAt": now}


def test_values_read_as_names_and_filters_take_them(shop_browser, shop):
    b = shop_browser("admin")
    page = b.goto(f"/websites/{shop.website_id}?range=24h")
    expect(row(page, "environment", "iOS Safari")).to_have_count(1)
    page.locator('[data-group="sources"]').get_by_role("tab", name="Channels").click()
    expect(row(page, "sources", "Organic search")).to_have_count(1)  # from google.com
    expect(row(page, "sources", "Email")).to_have_count(1)  # utm_medium=email
    page.locator('[data-group="location"]').get_by_role("tab", name="Regions").click()
    expect(row(page, "location", "ENG, United Kingdom")).to_have_count(1)
    b.shot("readable-names")

    # the filter dialog offers the countries by name, and a name picked there filters
    page.get_by_role("button", name="Filter", exact=True).click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Field").select_option("country")
    dialog.get_by_label("Value").focus()
    expect(dialog.locator("#filter-values option[value='United States']")).to_have_count(1)
    dialog.get_by_label("Value").fill("United States")
    dialog.get_by_role("button", name="Apply").click()
    expect(page.get_by_test_id("filters")).to_contain_text("Country is United States")
    expect(page).to_have_url(re.compile(re.escape("country=eq.US")))
    expect(card(page, "visitors")).to_have_text(str(shop.visitors_in("US")))
    page.get_by_role("button", name="Clear").click()

    # the API's filters take the names too, and mean the same as the codes
    stats = f"/api/websites/{shop.website_id}/stats"
    iphones = sum(v.user_agent == SAFARI_IPHONE for v in VISITORS)
    by_name = shop.admin.ok("GET", stats, params={**last_day(), "browser": "iOS Safari"})
    by_code = shop.admin.ok("GET", stats, params={**last_day(), "browser": "ios"})
    assert by_name["visitors"] == by_code["visitors"] == iphones
    germany = shop.admin.ok("GET", stats, params={**last_day(), "country": "eq.germany"})
    assert germany["visitors"] == shop.visitors_in("DE")

    # searching sessions for a country's name finds that country's visitors
    page = b.goto(f"/websites/{shop.website_id}/sessions")
    page.get_by_label("Search").fill("Germany")
    rows = page.get_by_test_id("sessions").locator("tbody tr")
    expect(rows).to_have_count(shop.visitors_in("DE"))
    expect(rows.first).to_contain_text("Berlin, Germany")
    expect(rows.first).to_contain_text("Chrome")

    # realtime names the browser, system and device (the last 30 minutes: the tracked page's
    # visitor, in this test's Chromium on Linux)
    page = b.goto(f"/websites/{shop.website_id}/realtime")
    feed = page.get_by_test_id("realtime-events")
    expect(feed.locator("li").first).to_contain_text("Chrome · Linux")

    # a segment's description reads in words
    segment = shop.admin.ok(
        "POST",
        f"/api/websites/{shop.website_id}/segments",
        {
            "type": "segment",
            "name": "iPhones outside the US",
            "parameters": {
                "filters": [
                    {"name": "browser", "operator": "eq", "value": "ios"},
                    {"name": "country", "operator": "neq", "value": "US"},
                ]
            },
        },
    )
    try:
        page = b.goto(f"/websites/{shop.website_id}/segments")
        described = page.locator(f'[data-segment="{segment["name"]}"] td').nth(1)
        expect(described).to_have_text("Browser is iOS Safari and Country is not United States")
    finally:
        shop.admin.ok("DELETE", f"/api/websites/{shop.website_id}/segments/{segment['id']}")


def chart_sums(page) -> dict[str, int]:
    """What each dataset of the overview's chart adds up to, and how many bars it has."""
    page.wait_for_function("() => Chart.getChart(document.querySelector('.chart-box canvas'))")
    return page.evaluate(
        """() => { const chart = Chart.getChart(document.querySelector('.chart-box canvas'));
        const out = { bars: chart.data.labels.length };
        for (const d of chart.data.datasets) out[d.label] = d.data.reduce((a, b) => a + (b || 0), 0);
        return out; }"""
    )


def test_the_server_owns_units_buckets_and_comparison(shop_browser, shop):
    b = shop_browser("admin")
    # seven days cannot be drawn by the hour: the menu does not offer hours, the chart has a bar
    # for each of the seven days (empty ones too), and the hours asked for in the URL are dropped
    page = b.goto(f"/websites/{shop.website_id}?range=7d&unit=hour")
    expect(page.locator("#unit option")).to_have_text(["Auto", "Days", "Months", "Years"])
    page.wait_for_function("() => !location.search.includes('unit=')")
    sums = chart_sums(page)
    assert sums["bars"] == 7 and sums["Views"] == shop.pageviews
    b.shot("chart-7-days")

    # a day is drawn by the hour: 24 hours touch 25 hourly buckets
    page.locator("#range").select_option("24h")
    expect(page.locator("#unit option")).to_have_text(["Auto", "Hours", "Days", "Months", "Years"])
    page.wait_for_function(
        "() => Chart.getChart(document.querySelector('.chart-box canvas')).data.labels.length === 25"
    )
    assert chart_sums(page)["Views"] == shop.pageviews

    # the previous period is the server's window: the visitor of eight days ago is in it, and the
    # tables' changes compare against the same window
    page = b.goto(f"/websites/{shop.website_id}?range=7d&compare=prev")
    page.wait_for_function(
        "() => Chart.getChart(document.querySelector('.chart-box canvas'))?.data.datasets.length === 4"
    )
    assert chart_sums(page)["Previous views"] == 1
    before, now = 1, shop.views_of("/")
    change = f"{'+' if now > before else ''}{round((now - before) / before * 100)}%"
    expect(row(page, "pages", "/").locator(".metric-change")).to_have_text(change)
    b.shot("chart-compared")


def test_a_range_older_than_the_retention_limit_says_so(shop_browser, shop):
    """The website's retention limit (issue 20) is named when the range starts before it."""
    website = f"/api/websites/{shop.website_id}"
    # a limit far older than the shop's traffic: nothing of it is deleted meanwhile
    assert shop.admin.ok("POST", website, {"retentionDays": 400})["retentionDays"] == 400
    try:
        b = shop_browser("admin")
        page = b.goto(f"/websites/{shop.website_id}?range=custom&start=2020-01-01&end=2020-01-31")
        notice = page.get_by_test_id("retention-notice")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("older than 400 days is deleted")
        page = b.goto(f"/websites/{shop.website_id}?range=24h")
        expect(card(page, "visitors")).not_to_have_text("")
        expect(page.get_by_test_id("retention-notice")).to_be_hidden()
    finally:
        shop.admin.ok("POST", website, {"retentionDays": None})
