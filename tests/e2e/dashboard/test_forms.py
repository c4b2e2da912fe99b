"""Forms that say what is wrong in plain words, beside the field, before or after asking the
API, in Chromium: a website's domain, a name too long, a segment without filters, a breakdown
without properties (and stale results cleared), and report steps suggested from the website's
own pages and events (cohorts' too)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import wait_until
from tests.e2e.dashboard.hits import send, wait_for_views

HINT = "Enter a host name such as example.com or localhost:3000, without http:// or a path"


def _add_website(page, name: str, domain: str) -> None:
    page.get_by_role("button", name="Add website").click()
    page.locator("#website-name").fill(name)
    page.locator("#website-domain").fill(domain)
    page.locator("#website-create-dialog").get_by_role("button", name="Save").click()


def test_website_domain_is_checked_in_the_form_and_by_the_api(open_browser, api):
    admin = api.admin()
    b = open_browser()
    page = b.page
    b.login("admin", "umami")
    dialog = page.locator("#website-create-dialog")
    for bad in ["not a domain!!", "https://shop.example/", "shop.example/blog"]:
        b.goto("/websites")
        _add_website(page, "Shop", bad)
        expect(dialog.locator(".field-error[data-for=domain]")).to_have_text(HINT)
        expect(page.locator("#website-domain")).to_have_attribute("aria-invalid", "true")
    b.shot("website-domain-refused", full_page=False)
    assert admin.ok("GET", "/api/websites")["count"] == 0

    # Without the form's own check, the API refuses it too, and the form says so in its words.
    b.goto("/websites")
    page.locator("#website-domain").evaluate("el => el.removeAttribute('pattern')")
    _add_website(page, "Shop", "not a domain!!")
    expect(dialog.get_by_role("alert")).to_have_text("Domain: " + HINT[0].lower() + HINT[1:])
    expect(dialog.locator(".field-error[data-for=domain]")).to_have_text(HINT)
    assert admin.ok("GET", "/api/websites")["count"] == 0

    # A development site with a port is a domain.
    b.goto("/websites")
    _add_website(page, "Local", "localhost:3000")
    page.wait_for_url("**/settings")
    [website] = admin.ok("GET", "/api/websites")["data"]
    assert website["domain"] == "localhost:3000"

    # Editing checks the same way.
    page.locator("#website-domain").fill("http://localhost:3000")
    page.get_by_role("button", name="Save").first.click()
    expect(page.locator(".field-error[data-for=domain]")).to_have_text(HINT)
    assert admin.ok("GET", f"/api/websites/{website['id']}")["domain"] == "localhost:3000"


def test_api_complaints_are_said_in_the_forms_words(open_browser, api):
    admin = api.admin()
    b = open_browser()
    page = b.page
    b.login("admin", "umami")
    b.goto("/websites")
    page.locator("#website-name").evaluate("el => el.removeAttribute('maxlength')")
    _add_website(page, "x" * 101, "shop.example")
    dialog = page.locator("#website-create-dialog")
    expect(dialog.get_by_role("alert")).to_have_text("Name: can have at most 100 characters")
    expect(dialog.locator(".field-error[data-for=name]")).to_have_text(
        "Can have at most 100 characters"
    )
    assert "String should" not in dialog.inner_text()
    assert admin.ok("GET", "/api/websites")["count"] == 0


def test_a_segment_needs_a_filter(open_browser, api):
    admin = api.admin()
    website = admin.new_website(name="Shop", domain="shop.example")["id"]
    b = open_browser()
    page = b.page
    b.login("admin", "umami")
    b.goto(f"/websites/{website}/segments")
    page.get_by_role("button", name="Add segment").click()
    page.get_by_label("Name").fill("Everyone?")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Give the segment at least one filter with a value."
    )
    params = {"type": "segment"}
    assert admin.ok("GET", f"/api/websites/{website}/segments", params=params)["count"] == 0
    page.get_by_label("Value of filter 1").fill("/pricing")
    page.get_by_role("button", name="Save").click()
    [saved] = wait_until(
        lambda: admin.ok("GET", f"/api/websites/{website}/segments", params=params)["data"],
        what="the segment",
    )
    assert saved["parameters"]["filters"] == [
        {"name": "path", "operator": "eq", "value": "/pricing"}
    ]


def test_breakdown_without_properties_is_refused_and_clears_old_results(open_browser, api):
    admin = api.admin()
    website = admin.new_website(name="Shop", domain="shop.example")["id"]
    send(api, website, ip="203.0.113.5", url="/pricing")
    wait_for_views(admin, website, 1)
    b = open_browser()
    page = b.page
    b.login("admin", "umami")
    b.goto(f"/websites/{website}/reports/new/breakdown")
    page.get_by_role("button", name="Run").click()
    table = page.get_by_test_id("breakdown")
    expect(table.locator("tbody tr")).to_have_count(1)
    sent = []
    page.on("request", lambda r: "/api/reports/breakdown" in r.url and sent.append(r.url))
    page.get_by_label("Path", exact=True).uncheck()
    page.get_by_role("button", name="Run").click()
    expect(page.locator("#fields-error")).to_have_text(
        "Choose at least one property to break down by."
    )
    expect(table).to_be_hidden()  # the old numbers no longer answer this form
    assert sent == []
    b.shot("breakdown-no-properties")


def test_report_steps_suggest_the_websites_pages_and_events(open_browser, api):
    admin = api.admin()
    website = admin.new_website(name="Shop", domain="shop.example")["id"]
    for n, path in enumerate(["/", "/pricing", "/signup"]):
        send(api, website, ip=f"203.0.113.{n + 30}", url=path)
    send(api, website, ip="203.0.113.30", url="/signup", event="signup")
    wait_for_views(admin, website, 3)
    b = open_browser()
    page = b.page
    b.login("admin", "umami")

    def suggested(input_locator) -> list[str]:
        return input_locator.evaluate(
            "el => [...(el.list?.options || [])].map((o) => o.value).sort()"
        )

    b.goto(f"/websites/{website}/reports/new/funnel")
    step = page.get_by_label("Step 1", exact=True)
    page.wait_for_function("document.querySelectorAll('#suggest-path option').length === 3")
    assert suggested(step) == ["/", "/pricing", "/signup"]
    page.get_by_label("Type of step 1").select_option("event")
    assert suggested(step) == ["signup"]
    b.shot("funnel-suggestions")

    b.goto(f"/websites/{website}/reports/new/goal")
    page.wait_for_function("document.querySelectorAll('#suggest-event option').length === 1")
    assert suggested(page.locator("#goal-value")) == ["/", "/pricing", "/signup"]
    page.get_by_label("Goal type").select_option("event")
    assert suggested(page.locator("#goal-value")) == ["signup"]

    b.goto(f"/websites/{website}/reports/new/journey")
    page.wait_for_function("document.querySelectorAll('#suggest-any option').length === 4")
    assert suggested(page.get_by_label("Start with")) == ["/", "/pricing", "/signup", "signup"]

    b.goto(f"/websites/{website}/reports/new/attribution")
    page.wait_for_function("document.querySelectorAll('#suggest-path option').length === 3")
    assert suggested(page.locator("#goal-value")) == ["/", "/pricing", "/signup"]

    # A cohort's page or event, the same way.
    b.goto(f"/websites/{website}/cohorts")
    page.get_by_role("button", name="Add cohort").click()
    page.wait_for_function("document.querySelectorAll('#cohort-suggest-path option').length === 3")
    assert suggested(page.get_by_label("Page or event")) == ["/", "/pricing", "/signup"]
    page.get_by_label("Visitors who").select_option("event")
    assert suggested(page.get_by_label("Page or event")) == ["signup"]
