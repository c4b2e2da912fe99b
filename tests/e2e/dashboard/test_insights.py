"""Insights in Chromium over known traffic (traffic.py): each report type runs and shows what was
sent; a funnel is created, saved, reopened, edited and deleted by a team member; a view-only
member can run reports but sees no save or delete, and the API refuses them anyway."""

from __future__ import annotations

import datetime

from playwright.sync_api import expect

from tests.e2e.dashboard.traffic import EARLIER_DAYS_AGO, EVIL


def run(page):
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_text("Running…")).to_be_hidden()
    expect(page.get_by_role("alert")).to_be_hidden()


def test_funnel_created_saved_edited_and_deleted(shop_browser, shop):
    b = shop_browser("member")
    page = b.goto(f"/websites/{shop.website_id}/reports")
    expect(page.get_by_text("No saved reports yet")).to_be_visible()
    b.shot("reports")
    with page.expect_navigation():
        page.locator('.report-type[data-type="funnel"]').click()
    page.wait_for_load_state("networkidle")
    page.get_by_label("Name").fill(EVIL)
    page.get_by_label("Step 1", exact=True).fill("/")
    page.get_by_label("Step 2", exact=True).fill("/pricing")
    page.get_by_role("button", name="Add step").click()
    page.get_by_label("Type of step 3").select_option("event")
    page.get_by_label("Step 3", exact=True).fill("signup")
    run(page)
    steps = page.get_by_test_id("funnel").locator(".funnel-step")
    expect(steps).to_have_count(3)
    # three visitors opened "/", one of them went on to /pricing and signed up (traffic.py)
    expect(steps.nth(0).locator(".visitors")).to_have_text("3")
    expect(steps.nth(1).locator(".visitors")).to_have_text("1")
    expect(steps.nth(1).locator(".dropoff")).to_have_text("2 dropped off (67%)")
    expect(steps.nth(2).locator(".visitors")).to_have_text("1")
    b.shot("report-funnel")

    with page.expect_navigation():
        page.get_by_role("button", name="Save report").click()
    [saved] = shop.member.ok(
        "GET", f"/api/websites/{shop.website_id}/reports", params={"type": "funnel"}
    )["data"]
    assert saved["name"] == EVIL
    assert saved["parameters"]["steps"] == [
        {"type": "path", "value": "/"},
        {"type": "path", "value": "/pricing"},
        {"type": "event", "value": "signup"},
    ]
    # the saved report runs when opened, and its name is text on the page
    expect(page.get_by_test_id("report-title")).to_have_text(EVIL)
    expect(page.get_by_test_id("funnel").locator(".funnel-step")).to_have_count(3)

    page.get_by_role("button", name="Remove step 2").click()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Report saved")).to_be_visible()
    edited = shop.member.ok("GET", f"/api/reports/{saved['id']}")
    assert [s["value"] for s in edited["parameters"]["steps"]] == ["/", "signup"]

    b.goto(f"/websites/{shop.website_id}/reports")
    expect(page.get_by_test_id("reports").get_by_role("link", name=EVIL)).to_be_visible()
    page.get_by_test_id("reports").get_by_role("link", name=EVIL).click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("funnel").locator(".funnel-step")).to_have_count(2)
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Delete").click()
    assert shop.member.ok("GET", f"/api/websites/{shop.website_id}/reports")["count"] == 0


def test_every_report_type_shows_the_traffic(shop_browser, shop):
    b = shop_browser("admin")
    page = b.page
    new = f"/websites/{shop.website_id}/reports/new/"

    b.goto(new + "goal")
    page.get_by_label("Goal type").select_option("event")
    page.get_by_label("Event name").fill("signup")
    run(page)
    expect(page.locator(".goal-num")).to_have_text("2")  # two visitors signed up
    expect(page.locator(".goal-total")).to_have_text(str(shop.visitors))
    b.shot("report-goal")

    b.goto(new + "journey")
    page.get_by_label("Number of steps").select_option("3")
    run(page)
    first = page.locator('.journey-col[data-step="1"] .journey-node')
    home = first.filter(has_text="/").filter(
        has=page.locator(
            ".node-label",
            has_text="/",
        )
    )
    expect(first.first).to_be_visible()
    node = page.locator(
        '.journey-col[data-step="1"] .journey-node',
        has=page.locator(".node-label", has_text="/pricing"),
    )
    expect(node.locator(".count")).to_have_text("1")  # only the iPhone visitor started at /pricing
    node.hover()
    expect(node.locator(".tip")).to_have_text("100% continue · 0% drop off")
    node.click()
    expect(node).to_have_attribute("aria-pressed", "true")
    expect(
        page.locator('.journey-col[data-step="2"] .journey-node:not(.dim) .node-label')
    ).to_have_text(["signup"])
    assert home.count() >= 1
    b.shot("report-journey")
    page.get_by_role("button", name="Full screen").click()
    page.wait_for_function("() => document.fullscreenElement?.dataset.testid === 'report-results'")
    page.get_by_role("button", name="Full screen").click()
    page.wait_for_function("() => !document.fullscreenElement")

    b.goto(new + "retention")
    # one month: this one, where everybody but EARLIER came today (traffic.py)
    today = datetime.date.today()
    page.get_by_label("Month").fill(today.strftime("%Y-%m"))
    run(page)
    earlier = today - datetime.timedelta(days=EARLIER_DAYS_AGO)
    cohorts = [1, shop.visitors] if earlier.month == today.month else [shop.visitors]
    rows = page.get_by_test_id("retention").locator("tbody tr")
    expect(rows).to_have_count(len(cohorts))
    expect(rows.locator("td:first-of-type")).to_have_text([str(n) for n in cohorts])
    b.shot("report-retention")

    b.goto(new + "breakdown")
    page.get_by_label("Path").uncheck()
    page.get_by_label("Country").check()
    run(page)
    table = page.get_by_test_id("breakdown")
    expect(table.locator("tbody tr")).to_have_count(
        5
    )  # four countries and the tracked visitor's none
    expect(table.locator("tbody tr", has_text="Germany").locator("td").nth(1)).to_have_text("1")
    b.shot("report-breakdown")
    page.get_by_role("button", name="Add filter").click()
    page.get_by_label("Field of filter 1").select_option("browser")
    page.get_by_label("Value of filter 1").fill("firefox")
    run(page)
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr td").first).to_have_text("United States")

    b.goto(new + "utm")
    run(page)
    source = page.locator('[data-list="utm_source"] .metric-row')
    expect(source).to_have_count(1)
    expect(source.locator(".metric-label")).to_have_text("newsletter")
    b.shot("report-utm")

    b.goto(new + "attribution")
    page.get_by_label("Goal type").select_option("event")
    page.get_by_label("Event name").fill("signup")
    run(page)
    expect(
        page.locator('[data-testid="attribution"] [data-metric="visitors"] .card-value')
    ).to_have_text("2")
    expect(page.locator('[data-list="referrer"] .metric-label')).to_have_text(["google.com"])
    b.shot("report-attribution")

    b.goto(new + "revenue")
    run(page)
    expect(page.locator('[data-testid="revenue"] [data-metric="sum"] .card-value')).to_have_text(
        "$50.00"
    )
    expect(page.locator('[data-list="country"] .metric-label')).to_have_text(["United Kingdom"])
    b.shot("report-revenue")


def test_view_only_member_runs_but_cannot_save(shop_browser, shop):
    b = shop_browser("viewer")
    page = b.goto(f"/websites/{shop.website_id}/reports/new/goal")
    expect(page.get_by_role("button", name="Save report")).to_have_count(0)
    expect(page.get_by_label("Name")).to_have_count(0)
    page.get_by_label("Path").fill("/pricing")
    run(page)
    expect(page.locator(".goal-num")).to_have_text("2")
    b.shot("report-view-only")
    refused = shop.viewer.post(
        "/api/reports",
        json={
            "websiteId": shop.website_id,
            "type": "goal",
            "name": "x",
            "parameters": {"type": "path", "value": "/"},
        },
    )
    assert refused.status_code in (401, 403), (
        refused.text
    )  # Umami answers view-only writes with 401
    assert (
        shop.admin.ok("GET", f"/api/websites/{shop.website_id}/reports", params={"type": "goal"})[
            "count"
        ]
        == 0
    )


def test_reports_start_with_the_overview_range_and_filters(shop_browser, shop):
    b = shop_browser("member")
    page = b.goto(f"/websites/{shop.website_id}?range=24h&country=eq.DE")
    expect(page.locator('[data-testid="stats"] [data-metric="visitors"] .card-value')).to_have_text(
        "1"
    )
    page.get_by_role("link", name="Reports").click()
    page.wait_for_load_state("networkidle")
    with page.expect_navigation():
        page.locator('.report-type[data-type="goal"]').click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_label("Field of filter 1")).to_have_value("country")
    expect(page.get_by_label("Value of filter 1")).to_have_value("DE")
    expect(page.get_by_label("Date range")).to_have_value("24h")
    page.get_by_label("Goal type").select_option("event")
    page.get_by_label("Event name").fill("signup")
    run(page)
    expect(page.locator(".goal-num")).to_have_text("1")  # only the visitor from Germany
    expect(page.locator(".goal-total")).to_have_text("1")
    b.shot("report-goal-filtered")


def test_a_segment_applies_to_a_report(shop_browser, shop):
    segment = shop.member.ok(
        "POST",
        f"/api/websites/{shop.website_id}/segments",
        {
            "type": "segment",
            "name": "From Britain",
            "parameters": {"filters": [{"name": "country", "operator": "eq", "value": "GB"}]},
        },
    )
    b = shop_browser("member")
    page = b.goto(f"/websites/{shop.website_id}/reports/new/goal")
    page.get_by_label("Goal type").select_option("event")
    page.get_by_label("Event name").fill("purchase")
    page.get_by_label("Segment").select_option(label="From Britain")
    run(page)
    expect(page.locator(".goal-num")).to_have_text("1")  # the British visitor bought
    expect(page.locator(".goal-total")).to_have_text("1")
    with page.expect_navigation():
        page.get_by_role("button", name="Save report").click()
    [saved] = shop.member.ok(
        "GET", f"/api/websites/{shop.website_id}/reports", params={"type": "goal"}
    )["data"]
    assert saved["parameters"]["segment"] == segment["id"]
    expect(page.get_by_label("Segment")).to_have_value(segment["id"])
    shop.member.ok("DELETE", f"/api/reports/{saved['id']}")
    shop.member.ok("DELETE", f"/api/websites/{shop.website_id}/segments/{segment['id']}")
