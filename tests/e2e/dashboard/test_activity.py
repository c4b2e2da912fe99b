"""Sessions, a visitor's profile, events with their properties, the weekly heatmap and the
realtime page in Chromium, over the known traffic of traffic.py."""

from __future__ import annotations

import time

import httpx
from playwright.sync_api import expect

from tests.e2e.dashboard.traffic import EVIL, VISITORS


def total(page, kind: str, metric: str):
    return page.locator(f'[data-testid="{kind}-totals"] [data-metric="{metric}"] .card-value')


def test_sessions_list_heatmap_and_visitor_profile(shop_browser, shop):
    b = shop_browser("member")
    page = b.goto(f"/websites/{shop.website_id}/sessions")
    expect(total(page, "sessions", "visitors")).to_have_text(str(shop.visitors))
    expect(total(page, "sessions", "countries")).to_have_text(
        str(len({v.country for v in VISITORS}))
    )
    rows = page.get_by_test_id("sessions").locator("tbody tr")
    expect(rows).to_have_count(shop.visitors)
    # the heatmap counts every visitor once, in the hour they came
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=weekly] td').length === 7 * 24"
    )
    counted = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=weekly] td')].reduce((s, td) => s + +td.dataset.count, 0)"
    )
    assert counted == shop.visitors
    b.shot("sessions")
    page.get_by_role("tab", name="Properties").click()
    page.get_by_test_id("properties").get_by_role("button").filter(has_text="company").click()
    expect(page.get_by_test_id("property-values").locator(".metric-label")).to_have_text([EVIL])
    b.shot("session-properties")
    page.get_by_role("tab", name="Activity").click()

    berlin = rows.filter(has_text="Berlin, Germany")
    berlin.get_by_role("link").click()
    page.wait_for_load_state("networkidle")
    facts = page.get_by_test_id("visitor-facts")
    expect(facts).to_contain_text("Berlin, Germany")
    expect(facts).to_contain_text("Windows")
    expect(facts).to_contain_text("Chrome")
    expect(facts).to_contain_text("German (Germany)")
    timeline = page.get_by_test_id("visitor-activity").locator(".timeline li")
    expect(timeline).to_have_count(len(VISITORS[0].hits))
    expect(timeline.locator(".what")).to_have_text(["signup", "/pricing", "/"])  # newest first
    b.shot("visitor-profile")

    # the visitor who loaded the tracked page was identified with an EVIL company
    b.goto(f"/websites/{shop.website_id}/sessions")
    rows.filter(has_text="—").get_by_role("link").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("visitor-activity").locator(".what")).to_have_text([EVIL, "/evil"])
    page.get_by_role("tab", name="Properties").click()
    expect(page.get_by_test_id("visitor-properties").locator("tbody tr")).to_have_text(
        [f"company{EVIL}"]
    )
    b.shot("visitor-properties")


def test_events_and_their_properties(shop_browser, shop):
    b = shop_browser("viewer")
    page = b.goto(f"/websites/{shop.website_id}/events")
    sent_events = sum(kind == "event" for v in VISITORS for kind, *_ in v.hits) + 1
    expect(total(page, "events", "events")).to_have_text(str(sent_events))
    expect(page.get_by_test_id("events").locator("tbody tr")).to_have_count(
        shop.pageviews + sent_events
    )
    page.get_by_label("Search").fill("signup")
    expect(page.get_by_test_id("events").locator("tbody tr")).to_have_count(2)
    chart = page.evaluate(
        "() => Chart.getChart(document.querySelector('.chart-box canvas')).data.datasets.map(d => [d.label, d.data.reduce((a, b) => a + b, 0)])"
    )
    assert sorted(chart) == sorted([["signup", 2], ["purchase", 1], [EVIL, 1]])
    b.shot("events")

    page.get_by_role("tab", name="Properties").click()
    properties = page.get_by_test_id("properties")
    properties.get_by_role("button").filter(has_text="signup").click()
    values = page.get_by_test_id("property-values").locator(".metric-row")
    expect(values.locator(".metric-label")).to_have_text(["free", "pro"])
    expect(values.locator(".metric-count")).to_have_text(["1", "1"])
    b.shot("event-properties")


def test_realtime_refreshes_by_itself(shop_browser, shop):
    b = shop_browser("admin")
    page = b.goto(f"/websites/{shop.website_id}/realtime")
    feed = page.get_by_test_id("realtime-events")
    expect(feed).to_contain_text("Viewed /evil")  # the tracked visit, minutes ago
    # a new view arrives while the page stays open: it shows up without a reload (on a website
    # of its own: the shop's traffic stays what the other modules count)
    live = shop.admin.new_website(name="Live", domain="live.test")
    page = b.goto(f"/websites/{live['id']}/realtime")
    expect(page.get_by_text("Nobody is here right now.")).to_be_visible()
    with httpx.Client(base_url=shop.server.url) as http:
        http.post(
            "/api/send",
            headers={
                "User-Agent": VISITORS[1].user_agent,
                "X-Forwarded-For": VISITORS[1].ip,
                "cf-ipcountry": "US",
            },
            json={
                "type": "event",
                "payload": {
                    "website": live["id"],
                    "hostname": "live.test",
                    "url": "/live",
                    "timestamp": int(time.time()),
                },
            },
        )
    expect(feed).to_contain_text("Viewed /live", timeout=15_000)
    expect(feed.locator("li")).to_have_count(2)
    expect(feed).to_contain_text("A new visitor arrived")
    expect(page.get_by_test_id("realtime-countries")).to_contain_text("United States")
    painted = page.evaluate(
        """() => Chart.getChart(document.getElementById('realtime-map')).data.datasets[0].data
        .filter(d => d.value > 0).map(d => d.feature.properties.name)"""
    )
    assert painted == ["United States of America"]
    b.shot("realtime")
