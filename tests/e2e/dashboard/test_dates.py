"""Dates as a person reads them, in Chromium: every screen writes a date the same way (the
browser's locale, here en-US: "Dec 5, 2026"), server-rendered pages included, and the revenue
chart draws every day of its range, empty days too, labelled like the other charts."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.e2e.dashboard.hits import send, wait_for_views


def _local_day(page, moment: datetime) -> date:
    zone = ZoneInfo(page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone"))
    return moment.astimezone(zone).date()


def _written(day: date) -> str:
    """en-US's medium date style, as Intl.DateTimeFormat writes it."""
    return f"{day:%b} {day.day}, {day.year}"


def test_every_screen_writes_dates_the_same_way(open_browser, api):
    admin = api.admin()
    website = admin.new_website(name="Shop", domain="shop.example")["id"]
    sent_at = int(time.time()) - 120
    send(api, website, ip="203.0.113.9", url="/", at=sent_at)
    wait_for_views(admin, website, 1)
    created = admin.ok("GET", f"/api/users/{admin.user['id']}")["createdAt"]

    b = open_browser()
    page = b.page
    b.login("admin", "umami")
    member_since = _written(_local_day(page, datetime.fromisoformat(created)))
    hit_day = _written(_local_day(page, datetime.fromtimestamp(sent_at, UTC)))

    b.goto("/settings/profile")
    expect(page.locator("dt:has-text('Member since') + dd")).to_have_text(member_since)
    b.goto("/settings/users")
    expect(page.locator("tr[data-user=admin] time")).to_have_text(member_since)
    b.goto(f"/websites/{website}/sessions")
    last_seen = page.get_by_test_id("sessions").locator("tbody tr td").last
    expect(last_seen).to_contain_text(hit_day + ",")  # the date, then the time of day
    b.goto(f"/websites/{website}/events")
    expect(page.get_by_test_id("events").locator("tbody tr td").first).to_contain_text(
        hit_day + ","
    )
    b.shot("dates-events")


def test_revenue_chart_has_every_day_of_the_range(open_browser, api):
    admin = api.admin()
    website = admin.new_website(name="Shop", domain="shop.example")["id"]
    now = int(time.time())
    today, three_days_ago = now - 60, now - 3 * 86_400
    for n, (at, amount) in enumerate([(today, 30), (three_days_ago, 12.5)]):
        ip = f"203.0.113.{n + 20}"
        send(api, website, ip=ip, url="/checkout", at=at)
        revenue = {"revenue": amount, "currency": "EUR"}
        send(api, website, ip=ip, url="/checkout", at=at + 5, event="purchase", data=revenue)
    wait_for_views(admin, website, 2)

    b = open_browser()
    page = b.page
    b.login("admin", "umami")
    b.goto(f"/websites/{website}/reports/new/revenue")
    page.get_by_label("Currency").select_option("EUR")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_test_id("revenue").locator("[data-metric=sum] .card-value")).to_have_text(
        "€42.50"
    )
    page.get_by_text("Show as a table").click()
    rows = page.get_by_test_id("revenue-table").locator("tbody tr")
    expect(rows).to_have_count(7)  # "Last 7 days": today and the six days before

    last = _local_day(page, datetime.now(UTC))
    days = [last - timedelta(days=back) for back in range(6, -1, -1)]
    paid = {
        _local_day(page, datetime.fromtimestamp(today, UTC)): "€30.00",
        _local_day(page, datetime.fromtimestamp(three_days_ago, UTC)): "€12.50",
    }
    expected = [[f"{day:%b} {day.day}", paid.get(day, "€0.00")] for day in days]
    shown = [row.locator("td").all_inner_texts() for row in rows.all()]
    assert shown == expected
    b.shot("revenue-every-day")

    # The numbers stay in the currency they were asked for until the report runs again.
    page.get_by_label("Currency").select_option("USD")
    expect(page.get_by_test_id("revenue").locator("[data-metric=sum] .card-value")).to_have_text(
        "€42.50"
    )
