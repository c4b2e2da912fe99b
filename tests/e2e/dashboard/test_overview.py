"""The website overview in Chromium over known traffic (traffic.py): stat cards and metric tables
that show what was sent and what the API answers, filters from a click and from the filter
dialog, the world map, the expanded view, date ranges, comparison, and a share URL logged out."""

from __future__ import annotations

import re
import time

import jwt
from playwright.sync_api import expect

from tests.e2e.dashboard.traffic import EARLIER_DAYS_AGO, EVIL, VISITORS


def card(page, metric: str):
    return page.locator(f'[data-testid="stats"] [data-metric="{metric}"] .card-value')


def row(page, group: str, label: str):
    rows = page.locator(f'[data-group="{group}"] .metric-row')
    return rows.filter(
        has=page.locator(".metric-label", has_text=re.compile(f"^{re.escape(label)}$"))
    )


def map_values(page) -> dict[str, int]:
    """The world map's countries that carry a value (what the choropleth paints)."""
    page.wait_for_function("() => Chart.getChart(document.getElementById('world-map'))")
    return page.evaluate(
        """() => { const chart = Chart.getChart(document.getElementById('world-map'));
        const out = {}; chart.data.datasets[0].data.forEach((d, i) => { if (d.value > 0) out[chart.data.labels[i]] = d.value; });
        return out; }"""
    )


def test_overview_shows_the_traffic_sent(shop_browser, shop):
    b = shop_browser("admin")
    page = b.goto(f"/websites/{shop.website_id}?range=24h")
    expect(card(page, "pageviews")).to_have_text(str(shop.pageviews))
    expect(card(page, "visitors")).to_have_text(str(shop.visitors))
    expect(card(page, "visits")).to_have_text(str(shop.visitors))
    expect(row(page, "pages", "/pricing").locator(".metric-count")).to_have_text(
        str(shop.views_of("/pricing"))
    )
    expect(row(page, "pages", "/").locator(".metric-count")).to_have_text(str(shop.views_of("/")))
    expect(row(page, "sources", "google.com").locator(".metric-count")).to_have_text("1")
    expect(row(page, "environment", "Firefox").locator(".metric-count")).to_have_text("1")
    expect(row(page, "location", "Germany").locator(".metric-count")).to_have_text("1")
    # the event named EVIL is shown as text (no script ran: the page has no JavaScript errors)
    expect(row(page, "events", EVIL)).to_have_count(1)
    expect(row(page, "events", "signup").locator(".metric-count")).to_have_text("2")
    assert map_values(page) == {
        "Germany": 1,
        "United States": 1,
        "United Kingdom": 1,
        "France": 1,
    }
    # what the page shows is what the API answers
    api_stats = shop.admin.ok(
        "GET", f"/api/websites/{shop.website_id}/stats", params=page_window(page)
    )
    assert api_stats["pageviews"] == shop.pageviews and api_stats["visitors"] == shop.visitors
    b.shot("overview")
    # the dark theme repaints the chart in its colours
    light = page.evaluate(
        "() => Chart.getChart(document.querySelector('.chart-box canvas')).data.datasets[0].backgroundColor"
    )
    page.get_by_role("button", name="Dark theme").click()
    page.wait_for_function(
        "light => Chart.getChart(document.querySelector('.chart-box canvas'))?.data.datasets[0].backgroundColor !== light",
        arg=light,
    )
    expect(card(page, "pageviews")).to_have_text(str(shop.pageviews))
    b.shot("overview-dark")
    page.get_by_role("button", name="Light theme").click()

    # the other tabs of a table, and the expanded view
    page.locator('[data-group="location"]').get_by_role("tab", name="Cities").click()
    expect(row(page, "location", "Berlin, Germany")).to_have_count(1)
    page.locator('[data-group="pages"]').get_by_role("tab", name="Titles").click()
    expect(row(page, "pages", EVIL)).to_have_count(1)
    page.locator('[data-group="pages"]').get_by_role("tab", name="Pages").click()
    page.get_by_role("button", name="More pages").click()
    table = page.get_by_test_id("expanded")
    home = table.locator("tbody tr").filter(has=page.get_by_role("button", name="/", exact=True))
    expect(home.locator("td").nth(3)).to_have_text(str(shop.views_of("/")))  # views
    b.shot("overview-expanded", full_page=False)
    page.get_by_label("Search").last.fill("blog")
    expect(table.locator("tbody tr")).to_have_count(1)
    page.keyboard.press("Escape")


def page_window(page) -> dict:
    """The startAt/endAt the page itself asked the API for (from its own URL state)."""
    return page.evaluate(
        """() => { const el = document.querySelector('.dashboard'); const d = Alpine.$data(el);
        const w = d.window; return { startAt: w.start.getTime(), endAt: w.end.getTime() }; }"""
    )


def test_filters_change_the_numbers(shop_browser, shop):
    b = shop_browser("admin")
    page = b.goto(f"/websites/{shop.website_id}?range=24h")
    expect(card(page, "visitors")).to_have_text(str(shop.visitors))
    # a click on a row filters by it
    row(page, "location", "Germany").click()
    expect(page.get_by_test_id("filters")).to_contain_text("Country")
    expect(page).to_have_url(re.compile(re.escape("country=eq.DE")))
    expect(card(page, "visitors")).to_have_text("1")
    expect(card(page, "pageviews")).to_have_text(
        str(sum(k == "view" for k, *_ in VISITORS[0].hits))
    )
    expect(page.locator('[data-group="pages"] .metric-row')).to_have_count(2)
    b.shot("overview-filtered")
    page.get_by_role("button", name="Clear").click()
    expect(card(page, "visitors")).to_have_text(str(shop.visitors))

    # the filter dialog: path does not contain "pricing"
    page.get_by_role("button", name="Filter", exact=True).click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Field").select_option("path")
    dialog.get_by_label("Operator").select_option("dnc")
    dialog.get_by_label("Value").focus()  # the paths of the range are offered
    expect(dialog.locator("#filter-values option[value='/pricing']")).to_have_count(1)
    dialog.get_by_label("Value").fill("pricing")
    dialog.get_by_role("button", name="Apply").click()
    expect(row(page, "pages", "/pricing")).to_have_count(0)
    expect(card(page, "pageviews")).to_have_text(str(shop.pageviews - shop.views_of("/pricing")))
    # the URL keeps the state: a reload shows the same
    page.reload()
    expect(card(page, "pageviews")).to_have_text(str(shop.pageviews - shop.views_of("/pricing")))
    page.get_by_role("button", name="Clear").click()
    expect(card(page, "pageviews")).to_have_text(str(shop.pageviews))

    # keyboard only: tab to a table row and press Enter to filter by it. The
    # tables redraw after Clear; wait for the row so focus is not lost mid-walk.
    page.wait_for_load_state("networkidle")
    expect(row(page, "environment", "Firefox")).to_have_count(1)
    page.locator('[data-group="environment"]').get_by_role("tab", name="Browsers").focus()
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.includes('Firefox')"):
            break
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"browser=eq\.firefox"))
    expect(card(page, "visitors")).to_have_text("1")


def test_date_ranges_units_and_comparison(shop_browser, shop):
    b = shop_browser("admin")
    page = b.goto(f"/websites/{shop.website_id}")
    expect(card(page, "pageviews")).to_have_text(str(shop.pageviews))  # last 7 days by default
    # the cards compare with the 7 days before, when only EARLIER came (traffic.py)
    change = page.locator('[data-testid="stats"] [data-metric="visitors"] .card-change')
    expect(change).to_have_text(f"+{(shop.visitors - 1) * 100}% vs previous")
    expect(change).to_have_class(re.compile(r"\bup\b"))
    page.get_by_label("Date range", exact=True).select_option("90d")
    expect(card(page, "pageviews")).to_have_text(str(shop.pageviews + 1))
    expect(card(page, "visitors")).to_have_text(str(shop.visitors + 1))
    expect(page).to_have_url(re.compile(re.escape("range=90d")))
    # compare mode: each table row shows its change against the previous period
    page.get_by_label("Date range", exact=True).select_option("7d")
    page.get_by_label("Compare", exact=True).select_option("prev")
    home = row(page, "pages", "/")
    expect(home.locator(".metric-change")).to_have_text(
        f"+{(shop.views_of('/') - 1) * 100}%"
    )  # EARLIER viewed "/"
    expect(row(page, "pages", "/pricing").locator(".metric-change")).to_have_text("new")
    b.shot("overview-compare-rows")
    page.get_by_label("Date range", exact=True).select_option("90d")
    page.get_by_label("Unit", exact=True).select_option("month")
    page.get_by_label("Compare", exact=True).select_option("yoy")
    page.wait_for_function(
        "() => Chart.getChart(document.querySelector('.chart-box canvas'))?.data.datasets.length === 4"
    )
    labels = page.evaluate(
        "() => Chart.getChart(document.querySelector('.chart-box canvas')).data.datasets.map(d => d.label)"
    )
    assert labels == ["Visitors", "Views", "Previous visitors", "Previous views"]
    b.shot("overview-compare")
    # all time: from the first day with data (EARLIER's) to now
    page.get_by_label("Date range", exact=True).select_option("all")
    expect(card(page, "pageviews")).to_have_text(str(shop.pageviews + 1))
    page.wait_for_function(
        "days => Math.abs((Date.now() - Alpine.$data(document.querySelector('.dashboard')).window.start) / 864e5 - days) < 1",
        arg=EARLIER_DAYS_AGO,
    )
    expect(card(page, "visitors")).to_have_text(str(shop.visitors + 1))
    # a custom range that ends before the traffic shows nothing
    page.get_by_label("Date range", exact=True).select_option("custom")
    page.get_by_label("From", exact=True).fill("2020-01-01")
    page.get_by_label("To", exact=True).fill("2020-01-31")
    page.get_by_label("To", exact=True).dispatch_event("change")
    expect(card(page, "pageviews")).to_have_text("0")
    expect(page).to_have_url(re.compile(re.escape("start=2020-01-01")))


def test_share_url_logged_out(shop_browser, shop):
    slug = "shop-share-" + shop.website_id[:8]
    shop.admin.ok("POST", f"/api/websites/{shop.website_id}", {"shareId": slug})
    b = shop_browser(None)
    page = b.goto(f"/share/{slug}?range=24h")
    expect(card(page, "pageviews")).to_have_text(str(shop.pageviews))
    expect(row(page, "pages", "/pricing")).to_have_count(1)
    # a share URL made from `shareId` publishes the overview and the events
    expect(row(page, "events", "signup").locator(".metric-count")).to_have_text("2")
    expect(page.get_by_role("button", name="Save as segment")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    b.shot("share")


def test_share_url_shows_only_what_the_share_publishes(shop_browser, shop):
    share = shop.admin.ok(
        "POST", f"/api/websites/{shop.website_id}/shares", {"name": "Overview", "parameters": {}}
    )
    page = shop_browser(None).goto(f"/share/{share['slug']}?range=24h")
    expect(card(page, "pageviews")).to_have_text(str(shop.pageviews))
    expect(row(page, "pages", "/pricing")).to_have_count(1)
    expect(page.locator('[data-group="events"]')).to_have_count(0)


DASHBOARD = "Alpine.$data(document.querySelector('.dashboard'))"


def test_share_url_renews_a_refused_token_and_notices_a_deleted_share(shop_browser, shop):
    share = shop.admin.ok(
        "POST",
        f"/api/websites/{shop.website_id}/shares",
        {"name": "Events", "parameters": {"events": True}},
    )
    page = shop_browser(None).goto(f"/share/{share['slug']}?range=24h")
    expect(card(page, "pageviews")).to_have_text(str(shop.pageviews))
    # the token expires: the next panels' 401 makes the page resolve the slug again
    secret = shop.server.server.config.app.state.services.settings.secret
    claims = jwt.decode(page.evaluate(f"{DASHBOARD}.shareToken"), secret, algorithms=["HS256"])
    expired = jwt.encode({**claims, "exp": int(time.time()) - 10}, secret, algorithm="HS256")
    page.evaluate(f"(token) => {{ {DASHBOARD}.shareToken = token; }}", expired)
    with page.expect_response(lambda r: r.url.endswith(f"/api/share/{share['slug']}")):
        page.evaluate(f"{DASHBOARD}.load()")
    expect(card(page, "pageviews")).to_have_text(str(shop.pageviews))
    expect(row(page, "events", "signup").locator(".metric-count")).to_have_text("2")
    renewed = page.evaluate(f"{DASHBOARD}.shareToken")
    assert (
        renewed != expired
        and jwt.decode(renewed, secret, algorithms=["HS256"])["exp"] > time.time()
    )
    expect(page.get_by_test_id("share-gone")).to_be_hidden()
    # the share is deleted: its token is refused, the slug no longer resolves, the page says so
    shop.admin.ok("DELETE", f"/api/share/id/{share['id']}")
    page.evaluate(f"{DASHBOARD}.load()")
    expect(page.get_by_test_id("share-gone")).to_be_visible()
    expect(page.locator('[data-testid="stats"] .form-error')).to_have_text(
        "This share is no longer available."
    )


def test_phone_and_dark_theme(shop_browser, shop):
    b = shop_browser("viewer", phone=True)
    page = b.page
    page.add_init_script("localStorage.setItem('katsuo.theme', 'dark')")
    b.goto(f"/websites/{shop.website_id}?range=24h")
    expect(card(page, "pageviews")).to_have_text(str(shop.pageviews))
    assert_fits_a_phone(page)
    b.shot("overview-phone-dark")
    # a view-only member: settings to look at, nothing to save
    expect(page.get_by_role("link", name="Settings", exact=True).first).to_be_visible()
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    row(page, "location", "Germany").click()
    expect(page.get_by_test_id("filters")).to_be_visible()
    expect(page.get_by_role("button", name="Save as segment")).to_have_count(0)

    for path in ("/sessions", "/events", "/reports", "/reports/new/funnel", "/realtime"):
        b.goto(f"/websites/{shop.website_id}{path}")
        assert_fits_a_phone(page)
        b.shot("phone-dark-" + path.strip("/").replace("/", "-"))


def assert_fits_a_phone(page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} scrolls sideways on a phone ({width}px)"
