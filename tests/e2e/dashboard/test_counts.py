"""Numbers that say what they count, in Chromium, from traffic the test sends: the users list
counts each user's websites; the overview counts page views while Sessions and Events also count
visits that only sent events, and their cards and lists say so; the metric tabs and the
Activity/Properties tabs work from the keyboard; charts and the map have tables."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.dashboard.hits import send, wait_for_views


def test_users_list_counts_each_users_websites(open_browser, api):
    admin = api.admin()
    admin.new_website(name="One", domain="one.example")
    admin.new_website(name="Two", domain="two.example")
    user = api.new_user()
    user.new_website(name="Mine", domain="mine.example")
    b = open_browser()
    page = b.page
    b.login("admin", "umami")
    b.goto("/settings/users")
    table = page.get_by_test_id("users")
    expect(table.locator("th").nth(2)).to_have_text("Websites")
    expect(table.locator("tr[data-user=admin] td").nth(2)).to_have_text("2")
    expect(table.locator(f"tr[data-user='{user.user['username']}'] td").nth(2)).to_have_text("1")
    b.shot("users-website-counts")


def _card(page, testid: str, metric: str):
    return page.get_by_test_id(testid).locator(f"[data-metric={metric}]")


def test_cards_and_lists_say_what_they_count(open_browser, api):
    admin = api.admin()
    website = admin.new_website(name="Shop", domain="shop.example")["id"]
    # A reader: two page views. A background job: one custom event, no page view.
    send(api, website, ip="203.0.113.1", url="/")
    send(api, website, ip="203.0.113.1", url="/pricing")
    send(api, website, ip="203.0.113.2", url="/api-ping", event="heartbeat")
    wait_for_views(admin, website, 2)

    b = open_browser()
    page = b.page
    b.login("admin", "umami")
    b.goto(f"/websites/{website}")
    expect(_card(page, "stats", "visitors").locator(".card-value")).to_have_text("1")
    expect(_card(page, "stats", "visitors").locator(".card-hint")).to_have_text(
        "People who viewed a page"
    )
    expect(_card(page, "stats", "visits").locator(".card-hint")).to_have_text(
        "Visits with a page view"
    )
    # Each metric table names what its numbers count.
    pages = page.locator("[data-group] .metric-body").first
    expect(pages.locator(".metric-head")).to_contain_text("Visitors")

    b.goto(f"/websites/{website}/sessions")
    expect(_card(page, "sessions-totals", "visitors").locator(".card-value")).to_have_text("2")
    expect(_card(page, "sessions-totals", "visitors").locator(".card-hint")).to_have_text(
        "Including those who only sent events"
    )
    expect(_card(page, "sessions-totals", "visits").locator(".card-value")).to_have_text("2")
    expect(page.get_by_test_id("sessions-count")).to_have_text("2 visitors in this period")

    b.goto(f"/websites/{website}/events")
    expect(_card(page, "events-totals", "events").locator(".card-value")).to_have_text("1")
    expect(_card(page, "events-totals", "events").locator(".card-hint")).to_have_text(
        "Custom events sent, not page views"
    )
    expect(page.get_by_test_id("events-count")).to_have_text(
        "3 page views and events in this period"
    )
    b.shot("events-counts")


def test_tabs_work_from_the_keyboard_and_charts_have_tables(open_browser, api):
    admin = api.admin()
    website = admin.new_website(name="Shop", domain="shop.example")["id"]
    send(api, website, ip="203.0.113.1", url="/", country="DE")
    send(api, website, ip="203.0.113.1", url="/", event="signup", country="DE")
    wait_for_views(admin, website, 1)
    b = open_browser()
    page = b.page
    b.login("admin", "umami")

    b.goto(f"/websites/{website}")
    group = page.locator("[data-group]").first
    tabs = group.get_by_role("tab")
    first, second = tabs.nth(0), tabs.nth(1)
    first.focus()
    page.keyboard.press("ArrowRight")
    expect(second).to_be_focused()
    expect(second).to_have_attribute("aria-selected", "true")
    expect(group.get_by_role("tabpanel")).to_have_attribute(
        "aria-labelledby", second.get_attribute("id")
    )
    page.keyboard.press("Home")
    expect(first).to_be_focused()
    # The chart and the map, as tables for screen readers.
    tables = page.locator("details.chart-table")
    expect(tables).to_have_count(2)
    for details in tables.all():
        details.locator("summary").click()
        expect(details.locator("table tbody tr").first).to_be_visible()
    assert [
        row.locator("td").all_inner_texts() for row in tables.nth(1).locator("tbody tr").all()
    ] == [["Germany", "1"]]

    b.goto(f"/websites/{website}/events")
    activity = page.get_by_role("tab", name="Activity")
    activity.focus()
    page.keyboard.press("ArrowRight")
    properties = page.get_by_role("tab", name="Properties")
    expect(properties).to_be_focused()
    expect(page.get_by_role("tabpanel")).to_have_attribute("id", "panel-properties")
    page.keyboard.press("ArrowLeft")
    expect(activity).to_be_focused()
    expect(page.get_by_role("tabpanel")).to_have_attribute("id", "panel-activity")
